/**
 * Pure parser of `rocm-smi --showproductname --showmeminfo vram --json`: an object keyed
 * `card0`, `card1`, ... (one per GCD: an MI250X shows up as two). ROCm 5 spells the keys
 * "Card series"/"Card model", ROCm 6 "Card Series"/"Card Model", so keys match case-insensitively.
 * Some versions print warnings before the JSON; parsing starts at the first `{`.
 */
import { MlcacheError } from '../errors.js';
import type { AmdGpu } from './types.js';

export const ROCM_SMI_ARGS = ['--showproductname', '--showmeminfo', 'vram', '--json'] as const;

function pick(record: Record<string, unknown>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(record)) {
    if (k.toLowerCase() === wanted && typeof v === 'string' && v.trim() !== '' && v.trim() !== 'N/A') return v.trim();
  }
  return undefined;
}

export function parseRocmSmi(text: string): AmdGpu[] {
  const start = text.indexOf('{');
  let data: unknown;
  try {
    data = start < 0 ? undefined : JSON.parse(text.slice(start));
  } catch (error) {
    throw new MlcacheError('INTERNAL', 'rocm-smi printed JSON that could not be parsed.', { cause: error });
  }
  if (data === null || typeof data !== 'object') return [];
  const cards = Object.entries(data as Record<string, unknown>)
    .map(([key, record]) => ({ n: /^card(\d+)$/.exec(key)?.[1], record }))
    .filter((c): c is { n: string; record: Record<string, unknown> } => c.n !== undefined && c.record !== null && typeof c.record === 'object')
    .sort((a, b) => Number(a.n) - Number(b.n));
  return cards.map(({ n, record }) => {
    const memory = Number(pick(record, 'VRAM Total Memory (B)'));
    return {
      vendor: 'amd',
      index: Number(n),
      name: pick(record, 'Card Series') ?? pick(record, 'Card Model') ?? `AMD GPU ${n}`,
      memoryBytes: Number.isFinite(memory) && memory > 0 ? memory : undefined,
      gfxVersion: pick(record, 'GFX Version'),
    };
  });
}
