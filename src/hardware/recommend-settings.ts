/**
 * Pure recommendations from a probe, each with the reason a person can check. The rules follow
 * what the runtimes support: faster-whisper/CTranslate2 runs float16 well only with tensor cores
 * (compute capability >= 7.0) and int8 on CUDA needs >= 6.1 (CTranslate2 docs, "Quantization":
 * supported types per compute capability); CTranslate2 has no MPS or ROCm backend; mlx_whisper runs
 * on Apple Silicon only (ml-explore/mlx-examples whisper README). docs/bootstrap.md lists them.
 */
import type { HardwareInfo, NvidiaGpu } from './types.js';

export interface Recommendation<T> {
  value: T;
  reason: string;
}

export type Device = 'cuda' | 'mps' | 'cpu';
export type ComputeType = 'float16' | 'int8' | 'float32';
export type WhisperBackend = 'mlx' | 'whisperx';

export interface Recommendations {
  device: Recommendation<Device>;
  computeType: Recommendation<ComputeType>;
  batchSize: Recommendation<number>;
  whisperBackend: Recommendation<WhisperBackend>;
  whisperModel: Recommendation<string>;
  modelGroups: Recommendation<string[]>;
}

/** The catalog's shipped groups (issue 4); `mlx` applies only to darwin-arm64. */
export const SHIPPED_GROUPS = ['whisperx', 'indictrans2', 'nllb', 'pyannote', 'demucs', 'mlx'] as const;

const GIB = 1024 ** 3;

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(bytes >= 10 * GIB ? 0 : 1)} GiB`;
}

function capability(gpu: NvidiaGpu): number | undefined {
  const n = Number(gpu.computeCapability);
  return gpu.computeCapability === undefined || !Number.isFinite(n) ? undefined : n;
}

/** Whisper batch size from the memory the model can use: room for large-v3 plus activations. */
export function batchSizeFor(usableBytes: number): number {
  if (usableBytes >= 40 * GIB) return 32;
  if (usableBytes >= 20 * GIB) return 16;
  if (usableBytes >= 10 * GIB) return 8;
  if (usableBytes >= 6 * GIB) return 4;
  return 2;
}

export function recommendSettings(hw: HardwareInfo): Recommendations {
  const nvidia = hw.gpus.filter((g): g is NvidiaGpu => g.vendor === 'nvidia');
  const primary = nvidia[0];
  const appleSilicon = hw.platform === 'darwin' && hw.machine === 'arm64';
  const amd = hw.gpus.find((g) => g.vendor === 'amd');

  let device: Recommendation<Device>;
  if (primary) {
    device = { value: 'cuda', reason: `${nvidia.length} NVIDIA GPU${nvidia.length > 1 ? 's' : ''} with a working driver (${primary.name})` };
  } else if (hw.hasMps) {
    device = { value: 'mps', reason: `Apple Silicon (${hw.cpu.model ?? 'arm64'}) with Metal Performance Shaders` };
  } else if (amd) {
    device = {
      value: 'cpu',
      reason: `AMD GPU found (${amd.name}) but CTranslate2 (faster-whisper) has no ROCm backend; PyTorch ROCm builds may still use it as "cuda"`,
    };
  } else {
    const nvidiaTool = hw.tools['nvidia-smi'];
    const why = nvidiaTool?.status === 'failed' ? `nvidia-smi failed: ${nvidiaTool.message}` : 'no supported GPU found';
    device = { value: 'cpu', reason: why };
  }

  let computeType: Recommendation<ComputeType>;
  if (device.value === 'cuda' && primary) {
    const cc = capability(primary);
    if (cc === undefined) {
      computeType = { value: 'float32', reason: 'compute capability unknown (driver older than 510); float32 works on every GPU' };
    } else if (cc >= 7.0) {
      computeType = { value: 'float16', reason: `compute capability ${primary.computeCapability} >= 7.0 has tensor cores for float16` };
    } else if (cc >= 6.1) {
      computeType = { value: 'int8', reason: `compute capability ${primary.computeCapability} < 7.0 runs float16 slowly; CTranslate2 int8 needs >= 6.1` };
    } else {
      computeType = { value: 'float32', reason: `compute capability ${primary.computeCapability} < 6.1 supports neither fast float16 nor int8` };
    }
  } else if (device.value === 'mps') {
    computeType = hw.hasMlx
      ? { value: 'float16', reason: 'MLX runs Whisper in float16 on the Apple GPU' }
      : { value: 'float32', reason: 'MPS without MLX (macOS < 13.5): PyTorch on MPS is dependable in float32' };
  } else {
    computeType = { value: 'int8', reason: 'CPU inference: CTranslate2 int8 quantization is the fastest with little accuracy loss' };
  }

  let batchSize: Recommendation<number>;
  if (device.value === 'cuda' && primary?.memoryBytes !== undefined) {
    batchSize = { value: batchSizeFor(primary.memoryBytes), reason: `${gib(primary.memoryBytes)} of GPU memory on ${primary.name}` };
  } else if (appleSilicon) {
    // macOS lets the GPU wire about two thirds of unified memory by default.
    const usable = hw.memory.totalBytes * (2 / 3);
    batchSize = { value: batchSizeFor(usable), reason: `${gib(hw.memory.totalBytes)} unified memory, about ${gib(usable)} usable by the GPU` };
  } else {
    const value = hw.memory.totalBytes >= 16 * GIB ? 4 : hw.memory.totalBytes >= 8 * GIB ? 2 : 1;
    batchSize = { value, reason: `CPU inference with ${gib(hw.memory.totalBytes)} RAM; larger batches only add memory pressure` };
  }

  const whisperBackend: Recommendation<WhisperBackend> = hw.hasMlx
    ? { value: 'mlx', reason: 'Apple Silicon with MLX: mlx_whisper is the fastest Whisper here' }
    : { value: 'whisperx', reason: appleSilicon ? 'MLX needs macOS 13.5 or newer' : 'WhisperX (faster-whisper) runs on CUDA and CPU' };

  const lowMemory = device.value === 'cpu' && hw.memory.totalBytes < 8 * GIB;
  const whisperModel: Recommendation<string> = lowMemory
    ? { value: 'medium', reason: `only ${gib(hw.memory.totalBytes)} RAM; large-v3 needs about 8 GiB on CPU` }
    : { value: 'large-v3', reason: 'the model the pipeline caches and loads by default' };

  const groups = SHIPPED_GROUPS.filter((g) => g !== 'mlx' || (appleSilicon && hw.hasMlx));
  const modelGroups: Recommendation<string[]> = {
    value: [...groups],
    reason: appleSilicon && hw.hasMlx ? 'every shipped group, including mlx (darwin-arm64)' : `every shipped group except mlx, which needs darwin-arm64 (this is ${hw.platform}-${hw.machine})`,
  };

  return { device, computeType, batchSize, whisperBackend, whisperModel, modelGroups };
}
