/**
 * The hardware probe: the thin I/O layer around the pure parsers. External tools run through an
 * injected `Exec` with the caller's environment (so its PATH decides what is found); files under
 * /proc and /etc are read below an injectable `systemRoot`. A tool that is not installed is
 * normal and recorded as `missing`; a tool that runs and fails is recorded as `failed` with its
 * own message (e.g. nvidia-smi's "couldn't communicate with the NVIDIA driver").
 */
import fs from 'node:fs/promises';
import nodeOs from 'node:os';
import path from 'node:path';
import { execTool, type Exec, type ExecResult } from './exec.js';
import {
  NVIDIA_QUERY_FIELDS,
  NVIDIA_QUERY_FIELDS_LEGACY,
  isUnknownQueryField,
  nvidiaQueryArgs,
  nvidiaSmiFailureMessage,
  parseNvidiaSmiCudaVersion,
  parseNvidiaSmiQuery,
} from './parse-nvidia-smi.js';
import { parseOsRelease, parseProcMeminfo } from './parse-proc-meminfo.js';
import { parseProcCpuinfo } from './parse-proc-cpuinfo.js';
import { ROCM_SMI_ARGS, parseRocmSmi } from './parse-rocm-smi.js';
import { SYSCTL_KEYS, parseSysctl, type SysctlInfo } from './parse-sysctl.js';
import type { AmdGpu, CpuInfo, Gpu, HardwareInfo, NvidiaGpu, ToolStatus } from './types.js';

/** The parts of node:os the probe uses (tests pass fixed values). */
export interface OsFacts {
  cpus(): Array<{ model: string }>;
  totalmem(): number;
  release(): string;
}

export interface ProbeHardwareOptions {
  /** Environment for the tools; its PATH decides which tools exist. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where free disk space is measured (the nearest existing ancestor counts). */
  diskPath: string;
  /** @default execTool (execa) */
  exec?: Exec;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** @default process.arch */
  arch?: string;
  /** Prefix for /proc/cpuinfo, /proc/meminfo and /etc/os-release. @default '/' */
  systemRoot?: string;
  /** @default node:os */
  os?: OsFacts;
  /** Per-tool time limit. @default 10_000 */
  timeoutMs?: number;
}

/** Node's arch in `uname -m` spelling, which is what Python's platform.machine() reports. */
export function unameMachine(platform: NodeJS.Platform, arch: string): string {
  switch (arch) {
    case 'x64':
      return platform === 'win32' ? 'AMD64' : 'x86_64';
    case 'arm64':
      return platform === 'darwin' ? 'arm64' : platform === 'win32' ? 'ARM64' : 'aarch64';
    case 'ia32':
      return 'i686';
    case 'arm':
      return 'armv7l';
    default:
      return arch;
  }
}

/** macOS version from `kern.osproductversion`, or derived from the Darwin kernel (Darwin 22.6 = macOS 13.5). */
export function macosVersion(productVersion: string | undefined, darwinRelease: string): [number, number] {
  const fromProduct = productVersion === undefined ? undefined : /^(\d+)\.(\d+)/.exec(productVersion);
  if (fromProduct) return [Number(fromProduct[1]), Number(fromProduct[2])];
  const m = /^(\d+)\.(\d+)/.exec(darwinRelease);
  if (!m) return [0, 0];
  const major = Number(m[1]);
  // Darwin 20 is macOS 11; from Big Sur on, the Darwin minor is the macOS minor + 1.
  return major >= 20 ? [major - 9, Math.max(0, Number(m[2]) - 1)] : [10, major - 4];
}

function atLeast(version: [number, number], major: number, minor: number): boolean {
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

function failed(result: ExecResult, timeoutMs: number): ToolStatus {
  if (result.timedOut) return { status: 'failed', exitCode: undefined, message: `timed out after ${timeoutMs / 1000}s` };
  return { status: 'failed', exitCode: result.exitCode, message: nvidiaSmiFailureMessage(result.stdout, result.stderr) };
}

async function probeNvidia(run: (file: string, args: string[]) => Promise<ExecResult>, timeoutMs: number): Promise<{ status: ToolStatus; gpus: NvidiaGpu[] }> {
  let fields: readonly string[] = NVIDIA_QUERY_FIELDS;
  let result = await run('nvidia-smi', nvidiaQueryArgs(fields));
  if (result.notFound) return { status: { status: 'missing' }, gpus: [] };
  if (result.exitCode !== 0 && isUnknownQueryField(result.stdout + result.stderr)) {
    fields = NVIDIA_QUERY_FIELDS_LEGACY;
    result = await run('nvidia-smi', nvidiaQueryArgs(fields));
  }
  if (result.exitCode !== 0) return { status: failed(result, timeoutMs), gpus: [] };
  const gpus = parseNvidiaSmiQuery(result.stdout, fields);
  const banner = await run('nvidia-smi', []);
  const cudaVersion = banner.exitCode === 0 ? parseNvidiaSmiCudaVersion(banner.stdout) : undefined;
  return { status: { status: 'ok' }, gpus: gpus.map((g) => ({ ...g, cudaVersion })) };
}

async function probeRocm(run: (file: string, args: string[]) => Promise<ExecResult>, timeoutMs: number): Promise<{ status: ToolStatus; gpus: AmdGpu[] }> {
  const result = await run('rocm-smi', [...ROCM_SMI_ARGS]);
  if (result.notFound) return { status: { status: 'missing' }, gpus: [] };
  if (result.exitCode !== 0) return { status: failed(result, timeoutMs), gpus: [] };
  try {
    return { status: { status: 'ok' }, gpus: parseRocmSmi(result.stdout) };
  } catch {
    return { status: { status: 'failed', exitCode: 0, message: 'rocm-smi printed output that is not JSON' }, gpus: [] };
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Free and total bytes of the filesystem holding `target` (or its nearest existing ancestor). */
export async function diskSpace(target: string): Promise<{ path: string; freeBytes: number | undefined; totalBytes: number | undefined }> {
  let dir = path.resolve(target);
  for (;;) {
    try {
      const s = await fs.statfs(dir);
      return { path: dir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return { path: path.resolve(target), freeBytes: undefined, totalBytes: undefined };
      dir = parent;
    }
  }
}

export async function probeHardware(options: ProbeHardwareOptions): Promise<HardwareInfo> {
  const exec = options.exec ?? execTool;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const osFacts = options.os ?? nodeOs;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const systemRoot = options.systemRoot ?? '/';
  const run = (file: string, args: string[]) => exec(file, args, { env: options.env, timeoutMs });
  const tools: Record<string, ToolStatus> = {};
  const gpus: Gpu[] = [];
  let machine = unameMachine(platform, arch);
  const fallbackCpu: CpuInfo = { model: osFacts.cpus()[0]?.model.trim() || undefined, cores: undefined, threads: osFacts.cpus().length };
  let cpu = fallbackCpu;
  let memory: HardwareInfo['memory'] = { totalBytes: osFacts.totalmem(), availableBytes: undefined };
  const os: HardwareInfo['os'] = { name: platform, release: osFacts.release(), version: undefined };
  let hasMps = false;
  let hasMlx = false;

  if (platform === 'linux') {
    os.name = 'Linux';
    const [cpuinfo, meminfo, osRelease] = await Promise.all([
      readOptional(path.join(systemRoot, 'proc', 'cpuinfo')),
      readOptional(path.join(systemRoot, 'proc', 'meminfo')),
      readOptional(path.join(systemRoot, 'etc', 'os-release')),
    ]);
    if (cpuinfo !== undefined) {
      const parsed = parseProcCpuinfo(cpuinfo);
      if (parsed.threads > 0) cpu = { ...parsed, model: parsed.model ?? fallbackCpu.model };
    }
    if (meminfo !== undefined) {
      const parsed = parseProcMeminfo(meminfo);
      if (parsed.totalBytes !== undefined) memory = { totalBytes: parsed.totalBytes, availableBytes: parsed.availableBytes };
    }
    if (osRelease !== undefined) os.version = parseOsRelease(osRelease);
  }

  if (platform === 'darwin') {
    os.name = 'macOS';
    const result = await run('sysctl', ['-n', ...SYSCTL_KEYS]);
    let info: SysctlInfo | undefined;
    if (result.notFound) tools.sysctl = { status: 'missing' };
    else if (result.exitCode !== 0) tools.sysctl = failed(result, timeoutMs);
    else {
      tools.sysctl = { status: 'ok' };
      info = parseSysctl(result.stdout);
    }
    if (info) {
      cpu = { model: info.cpuBrand ?? fallbackCpu.model, cores: info.physicalCpus, threads: info.logicalCpus ?? fallbackCpu.threads };
      if (info.memoryBytes !== undefined) memory = { totalBytes: info.memoryBytes, availableBytes: undefined };
      os.version = info.osProductVersion;
    }
    // An x64 Node under Rosetta still runs on Apple Silicon; the chip name tells.
    const appleChip = cpu.model?.startsWith('Apple') === true || arch === 'arm64';
    if (appleChip) {
      machine = 'arm64';
      const version = macosVersion(os.version, os.release);
      // PyTorch's MPS backend needs macOS 12.3; MLX needs macOS 13.5 (ml-explore/mlx README).
      hasMps = atLeast(version, 12, 3);
      hasMlx = atLeast(version, 13, 5);
      gpus.push({ vendor: 'apple', index: 0, name: cpu.model ?? 'Apple Silicon', memoryBytes: memory.totalBytes });
    }
  }

  if (platform === 'linux' || platform === 'win32') {
    const nvidia = await probeNvidia(run, timeoutMs);
    tools['nvidia-smi'] = nvidia.status;
    gpus.push(...nvidia.gpus);
  }
  if (platform === 'linux') {
    const rocm = await probeRocm(run, timeoutMs);
    tools['rocm-smi'] = rocm.status;
    gpus.push(...rocm.gpus);
  }

  return {
    platform,
    machine,
    os,
    cpu,
    memory,
    disk: await diskSpace(options.diskPath),
    gpus,
    hasMps,
    hasMlx,
    hasCuda: gpus.some((g) => g.vendor === 'nvidia'),
    hasRocm: gpus.some((g) => g.vendor === 'amd'),
    tools,
  };
}
