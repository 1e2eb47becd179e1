import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  NVIDIA_QUERY_FIELDS_LEGACY,
  isUnknownQueryField,
  nvidiaSmiFailureMessage,
  parseNvidiaSmiCudaVersion,
  parseNvidiaSmiQuery,
} from '../../../src/hardware/parse-nvidia-smi.js';
import { parseProcCpuinfo } from '../../../src/hardware/parse-proc-cpuinfo.js';
import { parseOsRelease, parseProcMeminfo } from '../../../src/hardware/parse-proc-meminfo.js';
import { parseRocmSmi } from '../../../src/hardware/parse-rocm-smi.js';
import { parseSysctl } from '../../../src/hardware/parse-sysctl.js';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../../fixtures/hardware', name), 'utf8');
const MIB = 1024 ** 2;

describe('nvidia-smi', () => {
  it('parses eight A100s from a DGX and the CUDA version from the banner', () => {
    const gpus = parseNvidiaSmiQuery(fixture('nvidia-smi.dgx-a100-8gpu.csv'));
    expect(gpus).toHaveLength(8);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[7]).toEqual({
      vendor: 'nvidia',
      index: 7,
      name: 'NVIDIA A100-SXM4-80GB',
      memoryBytes: 81920 * MIB,
      driverVersion: '535.104.05',
      computeCapability: '8.0',
      cudaVersion: undefined,
    });
    expect(parseNvidiaSmiCudaVersion(fixture('nvidia-smi.dgx-a100-8gpu.txt'))).toBe('12.2');
  });

  it('parses one RTX 4090', () => {
    const [gpu, ...rest] = parseNvidiaSmiQuery(fixture('nvidia-smi.rtx4090-workstation.csv'));
    expect(rest).toEqual([]);
    expect(gpu).toMatchObject({ name: 'NVIDIA GeForce RTX 4090', memoryBytes: 24564 * MIB, driverVersion: '550.54.14', computeCapability: '8.9' });
    expect(parseNvidiaSmiCudaVersion(fixture('nvidia-smi.rtx4090-workstation.txt'))).toBe('12.4');
  });

  it('parses the legacy three-field query of drivers without compute_cap', () => {
    expect(isUnknownQueryField(fixture('nvidia-smi.k80-legacy-driver.error.txt'))).toBe(true);
    const gpus = parseNvidiaSmiQuery(fixture('nvidia-smi.k80-legacy-driver.csv'), NVIDIA_QUERY_FIELDS_LEGACY);
    expect(gpus).toHaveLength(2);
    expect(gpus[1]).toMatchObject({ index: 1, name: 'Tesla K80', memoryBytes: 11441 * MIB, driverVersion: '460.106.00', computeCapability: undefined });
  });

  it('treats [N/A] and [Not Supported] as unknown and keeps commas in names', () => {
    const [gpu] = parseNvidiaSmiQuery('Odd, GPU, [N/A], 550.1, [Not Supported]\n');
    expect(gpu).toMatchObject({ name: 'Odd, GPU', memoryBytes: undefined, driverVersion: '550.1', computeCapability: undefined });
  });

  it('reports the driver error line', () => {
    const text = fixture('nvidia-smi.driver-error.txt');
    expect(parseNvidiaSmiQuery(text)).toEqual([]);
    expect(nvidiaSmiFailureMessage(text, '')).toMatch(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\./);
    expect(parseNvidiaSmiCudaVersion(text)).toBeUndefined();
  });
});

describe('rocm-smi', () => {
  it('parses the eight GCDs of four MI250X (ROCm 5 keys)', () => {
    const gpus = parseRocmSmi(fixture('rocm-smi.mi250x.json'));
    expect(gpus).toHaveLength(8);
    expect(gpus[3]).toEqual({ vendor: 'amd', index: 3, name: 'AMD INSTINCT MI250X', memoryBytes: 68702699520, gfxVersion: undefined });
  });

  it('skips the warning line and reads ROCm 6 key spelling', () => {
    expect(parseRocmSmi(fixture('rocm-smi.rx7900xtx-rocm6.json'))).toEqual([
      { vendor: 'amd', index: 0, name: 'Navi 31 [Radeon RX 7900 XT/7900 XTX/7900M]', memoryBytes: 25753026560, gfxVersion: 'gfx1100' },
    ]);
  });
});

describe('sysctl', () => {
  it.each([
    ['sysctl.macbook-pro-m3-max.txt', { cpuBrand: 'Apple M3 Max', memoryBytes: 64 * 1024 ** 3, physicalCpus: 16, logicalCpus: 16, osProductVersion: '14.5' }],
    ['sysctl.macbook-pro-2019-intel.txt', { cpuBrand: 'Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz', memoryBytes: 16 * 1024 ** 3, physicalCpus: 8, logicalCpus: 16, osProductVersion: '13.6.7' }],
    ['sysctl.mac-mini-m1-monterey.txt', { cpuBrand: 'Apple M1', memoryBytes: 8 * 1024 ** 3, physicalCpus: 8, logicalCpus: 8, osProductVersion: '12.7.6' }],
  ])('%s', (name, expected) => {
    expect(parseSysctl(fixture(name))).toEqual(expected);
  });
});

describe('/proc', () => {
  it.each([
    ['proc-cpuinfo.rtx4090-workstation.txt', { model: 'AMD Ryzen 9 7950X 16-Core Processor', cores: 16, threads: 32 }],
    ['proc-cpuinfo.dgx-a100-8gpu.txt', { model: 'AMD EPYC 7742 64-Core Processor', cores: 128, threads: 256 }],
    ['proc-cpuinfo.aws-graviton3.txt', { model: 'ARM Neoverse-V1', cores: 4, threads: 4 }],
  ])('cpuinfo %s', (name, expected) => {
    expect(parseProcCpuinfo(fixture(name))).toEqual(expected);
  });

  it.each([
    ['proc-meminfo.rtx4090-workstation.txt', 65535516 * 1024, 58123400 * 1024],
    ['proc-meminfo.dgx-a100-8gpu.txt', 2113377760 * 1024, 2051234560 * 1024],
    ['proc-meminfo.aws-graviton3.txt', 16044236 * 1024, 15012332 * 1024],
  ])('meminfo %s', (name, totalBytes, availableBytes) => {
    expect(parseProcMeminfo(fixture(name))).toEqual({ totalBytes, availableBytes });
  });

  it('reads PRETTY_NAME from os-release', () => {
    expect(parseOsRelease(fixture('os-release.ubuntu-22.04.txt'))).toBe('Ubuntu 22.04.4 LTS');
    expect(parseOsRelease('NAME=x\n')).toBeUndefined();
  });
});
