import { describe, expect, it } from 'vitest';
import { batchSizeFor, recommendSettings } from '../../../src/hardware/recommend-settings.js';
import { toHardwareRecord, toRecommendationsRecord } from '../../../src/hardware/hardware-record.js';
import type { HardwareInfo, NvidiaGpu } from '../../../src/hardware/types.js';
import { HardwareBlockSchema, RecommendationsSchema } from '../../../src/config/hardware-cache.js';

const GIB = 1024 ** 3;

function machine(over: Partial<HardwareInfo>): HardwareInfo {
  return {
    platform: 'linux',
    machine: 'x86_64',
    os: { name: 'Linux', release: '6.5.0', version: undefined },
    cpu: { model: 'cpu', cores: 8, threads: 16 },
    memory: { totalBytes: 32 * GIB, availableBytes: undefined },
    disk: { path: '/', freeBytes: 100 * GIB, totalBytes: 500 * GIB },
    gpus: [],
    hasMps: false,
    hasMlx: false,
    hasCuda: false,
    hasRocm: false,
    tools: {},
    ...over,
  };
}

const nvidia = (cc: string | undefined, memGib: number): NvidiaGpu => ({
  vendor: 'nvidia',
  index: 0,
  name: 'GPU',
  memoryBytes: memGib * GIB,
  driverVersion: '550',
  computeCapability: cc,
  cudaVersion: '12.4',
});

describe('recommendSettings', () => {
  it.each([
    ['A100 (8.0)', machine({ hasCuda: true, gpus: [nvidia('8.0', 80)] }), 'cuda', 'float16', 32],
    ['T4 (7.5)', machine({ hasCuda: true, gpus: [nvidia('7.5', 15)] }), 'cuda', 'float16', 8],
    ['GTX 1080 Ti (6.1)', machine({ hasCuda: true, gpus: [nvidia('6.1', 11)] }), 'cuda', 'int8', 8],
    ['P100 (6.0)', machine({ hasCuda: true, gpus: [nvidia('6.0', 16)] }), 'cuda', 'float32', 8],
    ['old driver, unknown cc', machine({ hasCuda: true, gpus: [nvidia(undefined, 4)] }), 'cuda', 'float32', 2],
    ['CPU only', machine({}), 'cpu', 'int8', 4],
    ['M3 Max', machine({ platform: 'darwin', machine: 'arm64', hasMps: true, hasMlx: true, memory: { totalBytes: 64 * GIB, availableBytes: undefined } }), 'mps', 'float16', 32],
    ['M1 on macOS 12', machine({ platform: 'darwin', machine: 'arm64', hasMps: true, hasMlx: false, memory: { totalBytes: 8 * GIB, availableBytes: undefined } }), 'mps', 'float32', 2],
  ])('%s', (_name, hw, device, computeType, batch) => {
    const rec = recommendSettings(hw);
    expect(rec.device.value).toBe(device);
    expect(rec.computeType.value).toBe(computeType);
    expect(rec.batchSize.value).toBe(batch);
    for (const r of Object.values(rec)) expect((r as { reason: string }).reason.length).toBeGreaterThan(10);
  });

  it('offers mlx and the mlx group only on Apple Silicon with MLX', () => {
    const mac = recommendSettings(machine({ platform: 'darwin', machine: 'arm64', hasMps: true, hasMlx: true }));
    expect(mac.whisperBackend.value).toBe('mlx');
    expect(mac.modelGroups.value).toEqual(['whisperx', 'indictrans2', 'nllb', 'pyannote', 'demucs', 'mlx']);
    const linux = recommendSettings(machine({ machine: 'aarch64' }));
    expect(linux.whisperBackend.value).toBe('whisperx');
    expect(linux.modelGroups.value).not.toContain('mlx');
    expect(linux.modelGroups.reason).toContain('linux-aarch64');
  });

  it('batch size grows with memory', () => {
    expect([4, 8, 12, 24, 48].map((g) => batchSizeFor(g * GIB))).toEqual([2, 4, 8, 16, 32]);
  });

  it('records match the hardware_cache.json schema and carry the pipeline fields', () => {
    const hw = machine({ hasCuda: true, gpus: [nvidia('8.9', 24)], tools: { 'nvidia-smi': { status: 'ok' }, 'rocm-smi': { status: 'failed', exitCode: 1, message: 'boom' } } });
    const record = toHardwareRecord(hw);
    expect(HardwareBlockSchema.parse(record)).toMatchObject({
      platform: 'linux',
      machine: 'x86_64',
      has_cuda: true,
      has_mps: false,
      has_mlx: false,
      gpu_type: 'cuda',
      gpu_memory_gb: 24,
      compute_capability: '8.9',
      cuda_version: '12.4',
      tools: { 'rocm-smi': { status: 'failed', exit_code: 1, message: 'boom' } },
    });
    expect(RecommendationsSchema.parse(toRecommendationsRecord(recommendSettings(hw)))).toMatchObject({ compute_type: { value: 'float16' } });
  });
});
