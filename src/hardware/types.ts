/**
 * What a hardware probe finds. Field names are camelCase here; `toHardwareRecord` turns them into
 * the snake_case block the pipeline's config/hardware_cache.json carries.
 */

/** How an external tool answered: absent is normal, failing is reported (its message kept). */
export type ToolStatus =
  | { status: 'ok' }
  | { status: 'missing' }
  | { status: 'failed'; exitCode: number | undefined; message: string }
  | { status: 'skipped'; reason: string };

export interface NvidiaGpu {
  vendor: 'nvidia';
  index: number;
  name: string;
  /** From `memory.total` in MiB. */
  memoryBytes: number | undefined;
  driverVersion: string | undefined;
  /** e.g. "8.0"; undefined when the driver is too old to report `compute_cap`. */
  computeCapability: string | undefined;
  /** The driver's maximum CUDA version from the `CUDA Version:` banner line. */
  cudaVersion: string | undefined;
}

export interface AmdGpu {
  vendor: 'amd';
  index: number;
  name: string;
  memoryBytes: number | undefined;
  gfxVersion: string | undefined;
}

export interface AppleGpu {
  vendor: 'apple';
  index: number;
  /** The chip, e.g. "Apple M3 Max"; the GPU shares its unified memory. */
  name: string;
  memoryBytes: number | undefined;
}

export type Gpu = NvidiaGpu | AmdGpu | AppleGpu;

export interface CpuInfo {
  model: string | undefined;
  /** Physical cores (undefined when the source cannot tell). */
  cores: number | undefined;
  /** Logical CPUs (hardware threads). */
  threads: number;
}

export interface HardwareInfo {
  /** Node's `process.platform`, which is also Python's `sys.platform` on linux/darwin/win32. */
  platform: NodeJS.Platform;
  /** `uname -m` spelling: x86_64, aarch64 (Linux), arm64 (macOS). */
  machine: string;
  os: { name: string; release: string; version: string | undefined };
  cpu: CpuInfo;
  memory: { totalBytes: number; availableBytes: number | undefined };
  disk: { path: string; freeBytes: number | undefined; totalBytes: number | undefined };
  gpus: Gpu[];
  /** Apple Silicon: Metal Performance Shaders are available to PyTorch. */
  hasMps: boolean;
  /** Apple Silicon on macOS 13.5 or newer: MLX can run. */
  hasMlx: boolean;
  /** A working NVIDIA driver with at least one GPU. */
  hasCuda: boolean;
  /** A working ROCm stack with at least one AMD GPU. */
  hasRocm: boolean;
  tools: Record<string, ToolStatus>;
}
