/**
 * The disk preflight of a `cache-models` plan: bytes still needed per cache root (the hub cache,
 * TORCH_HOME) through the shared check (cache/disk-space.ts `checkVolumes`, the margin of a
 * catalog run), and the INSUFFICIENT_SPACE error naming each short volume and the largest entries.
 */
import { checkVolumes, type SpaceDemand } from '../../cache/disk-space.js';
import { MlcacheError } from '../../errors.js';
import { formatBytes } from '../../util/bytes.js';
import type { CacheModelsPlan, CacheModelsVolume } from './plan-schema.js';

/** Group the demands by filesystem and compare each with its free space (plan.volumes). */
export async function planVolumes(
  demands: readonly SpaceDemand[],
  freeSpace: ((dir: string) => Promise<number>) | undefined,
): Promise<CacheModelsVolume[]> {
  const checks = await checkVolumes(demands, { scope: 'catalog', freeSpace });
  return checks.map((c) => ({
    path: c.path,
    device: c.device,
    roots: c.roots,
    bytesNeeded: c.bytesNeeded,
    bytesRequired: c.bytesRequired,
    ...(c.bytesFree !== undefined ? { bytesFree: c.bytesFree } : {}),
    fits: c.fits,
  }));
}

export function insufficientSpace(plan: CacheModelsPlan): MlcacheError {
  const short = plan.volumes.filter((v) => !v.fits);
  const lines = short.map(
    (v) =>
      `${v.roots.join(' and ')}: ${formatBytes(v.bytesNeeded)} to download (+ margin = ${formatBytes(v.bytesRequired)}), ` +
      `${formatBytes(v.bytesFree ?? 0)} free on ${v.path}`,
  );
  const shortRoots = new Set(short.flatMap((v) => v.roots));
  const largest = plan.entries
    .filter((e) => e.bytesNeeded > 0 && [...shortRoots].some((r) => e.destination.startsWith(r)))
    .sort((a, b) => b.bytesNeeded - a.bytesNeeded)
    .slice(0, 3)
    .map((e) => `${e.group}/${e.name} (${formatBytes(e.bytesNeeded)})`);
  return new MlcacheError('INSUFFICIENT_SPACE', `Not enough disk space; nothing was downloaded.\n  ${lines.join('\n  ')}`, {
    hint: `Free some space, point --cache-dir / --torch-home at a larger disk, or leave out the largest: ${largest.join(', ')}.`,
    details: { volumes: short, largest },
  });
}
