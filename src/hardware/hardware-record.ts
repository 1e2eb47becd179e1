/**
 * The snake_case records written to config/hardware_cache.json. The first five hardware fields
 * are the ones the pipeline's environment manager reads (platform, machine, has_cuda, has_mps,
 * has_mlx); the rest is the richer record its hardware_detection.py wrote (cpu_brand, memory_gb,
 * gpu_type, gpu_name, compute_capability, cuda_version, ...). Pure.
 */
import type { Recommendation, Recommendations } from './recommend-settings.js';
import type { Gpu, HardwareInfo, ToolStatus } from './types.js';

const GIB = 1024 ** 3;
const toGb = (bytes: number | undefined): number | null => (bytes === undefined ? null : Math.round((bytes / GIB) * 10) / 10);

function gpuRecord(g: Gpu): Record<string, unknown> {
  return {
    vendor: g.vendor,
    index: g.index,
    name: g.name,
    memory_bytes: g.memoryBytes ?? null,
    memory_gb: toGb(g.memoryBytes),
    ...(g.vendor === 'nvidia'
      ? { driver_version: g.driverVersion ?? null, compute_capability: g.computeCapability ?? null, cuda_version: g.cudaVersion ?? null }
      : {}),
    ...(g.vendor === 'amd' ? { gfx_version: g.gfxVersion ?? null } : {}),
  };
}

function toolRecord(t: ToolStatus): Record<string, unknown> {
  switch (t.status) {
    case 'failed':
      return { status: 'failed', exit_code: t.exitCode ?? null, message: t.message };
    case 'skipped':
      return { status: 'skipped', reason: t.reason };
    default:
      return { status: t.status };
  }
}

export function toHardwareRecord(hw: HardwareInfo): Record<string, unknown> {
  const primary = hw.gpus[0];
  const nvidia = primary?.vendor === 'nvidia' ? primary : undefined;
  const gpuType = hw.hasCuda ? 'cuda' : hw.hasMps ? 'mps' : hw.hasRocm ? 'rocm' : 'cpu';
  return {
    platform: hw.platform,
    machine: hw.machine,
    has_cuda: hw.hasCuda,
    has_mps: hw.hasMps,
    has_mlx: hw.hasMlx,
    has_rocm: hw.hasRocm,
    os_name: hw.os.name,
    os_release: hw.os.release,
    os_version: hw.os.version ?? null,
    cpu_brand: hw.cpu.model ?? null,
    cpu_cores: hw.cpu.cores ?? null,
    cpu_threads: hw.cpu.threads,
    memory_bytes: hw.memory.totalBytes,
    memory_gb: toGb(hw.memory.totalBytes),
    disk_path: hw.disk.path,
    disk_free_bytes: hw.disk.freeBytes ?? null,
    disk_free_gb: toGb(hw.disk.freeBytes),
    gpu_type: gpuType,
    gpu_count: hw.gpus.length,
    gpu_name: primary?.name ?? null,
    gpu_memory_gb: toGb(primary?.memoryBytes),
    compute_capability: nvidia?.computeCapability ?? null,
    cuda_version: nvidia?.cudaVersion ?? null,
    driver_version: nvidia?.driverVersion ?? null,
    gpus: hw.gpus.map(gpuRecord),
    tools: Object.fromEntries(Object.entries(hw.tools).map(([name, t]) => [name, toolRecord(t)])),
  };
}

const entry = <T>(r: Recommendation<T>) => ({ value: r.value, reason: r.reason });

export function toRecommendationsRecord(r: Recommendations): Record<string, { value: unknown; reason: string }> {
  return {
    device: entry(r.device),
    compute_type: entry(r.computeType),
    batch_size: entry(r.batchSize),
    whisper_backend: entry(r.whisperBackend),
    whisper_model: entry(r.whisperModel),
    model_groups: entry(r.modelGroups),
  };
}
