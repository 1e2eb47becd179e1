/**
 * A short per-group summary (name, approximate size, description) for `cache-models --help`.
 * Deliberately free of zod and tolerant of any JSON so the help text costs one small file read.
 * Pure.
 */
import { formatBytes } from '../util/bytes.js';

export interface GroupSummary {
  name: string;
  /** Sum of URL artifact sizes and Hub `approxBytes` (optional entries included). */
  approxBytes: number;
  description: string;
  platform: string | undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function summarizeGroups(raw: unknown): GroupSummary[] {
  const groups = asRecord(asRecord(raw)?.groups) ?? {};
  return Object.entries(groups).map(([name, value]) => {
    const group = asRecord(value) ?? {};
    const entries = Array.isArray(group.entries) ? group.entries : [];
    let approxBytes = 0;
    for (const e of entries) {
      const entry = asRecord(e) ?? {};
      const size = typeof entry.size === 'number' ? entry.size : typeof entry.approxBytes === 'number' ? entry.approxBytes : 0;
      approxBytes += size;
    }
    const platform = asRecord(group.platform);
    const os = Array.isArray(platform?.os) ? platform.os.join('|') : undefined;
    const arch = Array.isArray(platform?.arch) ? platform.arch.join('|') : undefined;
    return {
      name,
      approxBytes,
      description: typeof group.description === 'string' ? group.description : '',
      platform: os !== undefined || arch !== undefined ? [os, arch].filter(Boolean).join('-') : undefined,
    };
  });
}

/** Lines such as `  nllb          ~17.6 GB  NLLB-200 3.3B translation`. */
export function formatGroupSummaries(summaries: readonly GroupSummary[]): string {
  const width = Math.max(5, ...summaries.map((s) => s.name.length));
  return summaries
    .map((s) => {
      const size = `~${formatBytes(s.approxBytes)}`.padStart(10);
      const only = s.platform !== undefined ? ` [${s.platform} only]` : '';
      return `  ${s.name.padEnd(width)}  ${size}  ${s.description}${only}`;
    })
    .join('\n');
}
