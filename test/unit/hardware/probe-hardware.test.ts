/**
 * The probe against fake executables placed first on PATH (small sh scripts that print recorded
 * outputs), never mocks: present and working, present and failing, absent.
 */
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeHardware, macosVersion, type OsFacts } from '../../../src/hardware/probe-hardware.js';
import { recommendSettings } from '../../../src/hardware/recommend-settings.js';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/hardware');
let dir: string;
let bin: string;
let sysRoot: string;

const fakeOs: OsFacts = { cpus: () => [{ model: 'fallback cpu' }, { model: 'fallback cpu' }], totalmem: () => 8 * 1024 ** 3, release: () => '6.5.0-41-generic' };

/** A fake tool: prints `stdoutFile` (by query or plain call) with shell builtins only, so PATH can be just `bin`. */
async function fakeTool(name: string, script: string): Promise<void> {
  const file = path.join(bin, name);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
}
const printFile = (file: string) => `while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < '${path.join(FIXTURES, file)}'`;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-probe-'));
  bin = path.join(dir, 'bin');
  sysRoot = path.join(dir, 'sys');
  await mkdir(bin);
  await mkdir(path.join(sysRoot, 'proc'), { recursive: true });
  await mkdir(path.join(sysRoot, 'etc'), { recursive: true });
  await copyFile(path.join(FIXTURES, 'proc-cpuinfo.rtx4090-workstation.txt'), path.join(sysRoot, 'proc', 'cpuinfo'));
  await copyFile(path.join(FIXTURES, 'proc-meminfo.rtx4090-workstation.txt'), path.join(sysRoot, 'proc', 'meminfo'));
  await copyFile(path.join(FIXTURES, 'os-release.ubuntu-22.04.txt'), path.join(sysRoot, 'etc', 'os-release'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const linux = () => probeHardware({ env: { PATH: bin }, diskPath: path.join(dir, 'not-yet', 'root'), platform: 'linux', arch: 'x64', systemRoot: sysRoot, os: fakeOs });

describe('probeHardware on Linux', () => {
  it('reads a working nvidia-smi, /proc and disk space', async () => {
    await fakeTool(
      'nvidia-smi',
      `case "$1" in --query-gpu=name,memory.total,driver_version,compute_cap) ${printFile('nvidia-smi.rtx4090-workstation.csv')};; "") ${printFile('nvidia-smi.rtx4090-workstation.txt')};; *) exit 2;; esac`,
    );
    const hw = await linux();
    expect(hw.tools['nvidia-smi']).toEqual({ status: 'ok' });
    expect(hw.tools['rocm-smi']).toEqual({ status: 'missing' });
    expect(hw.hasCuda).toBe(true);
    expect(hw.gpus).toEqual([
      { vendor: 'nvidia', index: 0, name: 'NVIDIA GeForce RTX 4090', memoryBytes: 24564 * 1024 ** 2, driverVersion: '550.54.14', computeCapability: '8.9', cudaVersion: '12.4' },
    ]);
    expect(hw.cpu).toEqual({ model: 'AMD Ryzen 9 7950X 16-Core Processor', cores: 16, threads: 32 });
    expect(hw.memory.totalBytes).toBe(65535516 * 1024);
    expect(hw.os).toEqual({ name: 'Linux', release: '6.5.0-41-generic', version: 'Ubuntu 22.04.4 LTS' });
    expect(hw.machine).toBe('x86_64');
    // The root does not exist yet: the nearest existing ancestor is measured.
    expect(hw.disk.path).toBe(dir);
    expect(hw.disk.freeBytes).toBeGreaterThan(0);
    expect(recommendSettings(hw).computeType.value).toBe('float16');
  });

  it('reports a failing nvidia-smi with its message and exit status, and falls back to CPU', async () => {
    await fakeTool('nvidia-smi', `${printFile('nvidia-smi.driver-error.txt')}\nexit 9`);
    const hw = await linux();
    expect(hw.tools['nvidia-smi']).toEqual({
      status: 'failed',
      exitCode: 9,
      message: expect.stringMatching(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/),
    });
    expect(hw.hasCuda).toBe(false);
    expect(hw.gpus).toEqual([]);
    const rec = recommendSettings(hw);
    expect(rec.device.value).toBe('cpu');
    expect(rec.device.reason).toContain("couldn't communicate with the NVIDIA driver");
  });

  it('treats absent tools as missing, not as errors', async () => {
    const hw = await linux();
    expect(hw.tools).toEqual({ 'nvidia-smi': { status: 'missing' }, 'rocm-smi': { status: 'missing' } });
    expect(hw.gpus).toEqual([]);
  });

  it('retries without compute_cap on drivers older than 510', async () => {
    await fakeTool(
      'nvidia-smi',
      `case "$1" in --query-gpu=name,memory.total,driver_version,compute_cap) ${printFile('nvidia-smi.k80-legacy-driver.error.txt')}; exit 2;; --query-gpu=name,memory.total,driver_version) ${printFile('nvidia-smi.k80-legacy-driver.csv')};; *) printf '| NVIDIA-SMI 460.106.00   Driver Version: 460.106.00   CUDA Version: 11.2 |\\n';; esac`,
    );
    const hw = await linux();
    expect(hw.gpus.map((g) => g.name)).toEqual(['Tesla K80', 'Tesla K80']);
    expect(hw.gpus[0]).toMatchObject({ computeCapability: undefined, cudaVersion: '11.2' });
    expect(recommendSettings(hw).computeType.value).toBe('float32');
  });

  it('reads AMD GPUs through rocm-smi', async () => {
    await fakeTool('rocm-smi', `[ "$*" = "--showproductname --showmeminfo vram --json" ] || exit 3\n${printFile('rocm-smi.mi250x.json')}`);
    const hw = await linux();
    expect(hw.tools['rocm-smi']).toEqual({ status: 'ok' });
    expect(hw.hasRocm).toBe(true);
    expect(hw.gpus).toHaveLength(8);
    expect(recommendSettings(hw).device).toMatchObject({ value: 'cpu', reason: expect.stringContaining('ROCm') });
  });
});

describe('probeHardware on macOS', () => {
  it('reads Apple Silicon through sysctl: MPS and MLX capable', async () => {
    await fakeTool('sysctl', `[ "$1" = "-n" ] || exit 1\n${printFile('sysctl.macbook-pro-m3-max.txt')}`);
    const hw = await probeHardware({ env: { PATH: bin }, diskPath: dir, platform: 'darwin', arch: 'arm64', os: { ...fakeOs, release: () => '23.5.0' } });
    expect(hw).toMatchObject({ machine: 'arm64', hasMps: true, hasMlx: true, hasCuda: false, os: { name: 'macOS', version: '14.5' } });
    expect(hw.cpu).toEqual({ model: 'Apple M3 Max', cores: 16, threads: 16 });
    expect(hw.gpus).toEqual([{ vendor: 'apple', index: 0, name: 'Apple M3 Max', memoryBytes: 64 * 1024 ** 3 }]);
    expect(hw.tools).toEqual({ sysctl: { status: 'ok' } });
    const rec = recommendSettings(hw);
    expect(rec.whisperBackend.value).toBe('mlx');
    expect(rec.modelGroups.value).toContain('mlx');
  });

  it('knows an x64 Node under Rosetta still runs on Apple Silicon', async () => {
    await fakeTool('sysctl', printFile('sysctl.macbook-pro-m3-max.txt'));
    const hw = await probeHardware({ env: { PATH: bin }, diskPath: dir, platform: 'darwin', arch: 'x64', os: fakeOs });
    expect(hw.machine).toBe('arm64');
    expect(hw.hasMlx).toBe(true);
  });

  it('an Intel Mac has neither MPS nor MLX', async () => {
    await fakeTool('sysctl', printFile('sysctl.macbook-pro-2019-intel.txt'));
    const hw = await probeHardware({ env: { PATH: bin }, diskPath: dir, platform: 'darwin', arch: 'x64', os: fakeOs });
    expect(hw).toMatchObject({ machine: 'x86_64', hasMps: false, hasMlx: false, gpus: [] });
    expect(hw.cpu).toEqual({ model: 'Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz', cores: 8, threads: 16 });
  });

  it('derives the macOS version from the Darwin release when sysctl lacks it', () => {
    expect(macosVersion(undefined, '22.6.0')).toEqual([13, 5]);
    expect(macosVersion(undefined, '21.6.0')).toEqual([12, 5]);
    expect(macosVersion('12.7.6', '21.6.0')).toEqual([12, 7]);
  });
});
