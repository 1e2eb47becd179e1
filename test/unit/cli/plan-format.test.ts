/**
 * Plans that tell the truth: an entry that could not be planned is never "cached" or "0 B", totals
 * say how many entries are unknown, and a Hub that cannot be reached is said once — in the
 * cache-models table, its one-line summary, and the bootstrap prompt (the offline case of issue 13).
 */
import { describe, expect, it } from 'vitest';
import type { CacheModelsPlan, CacheModelsPlanEntry } from '../../../src/commands/cache-models/plan-schema.js';
import { formatBootstrapPlan } from '../../../src/cli/register/bootstrap.js';
import { formatPlanTable, formatSummary, planLine } from '../../../src/cli/ui/cache-models-format.js';
import type { CacheModelsEntryResult } from '../../../src/commands/cache-models/index.js';

const refused = {
  code: 'NETWORK_DNS',
  message: 'huggingface.co could not be resolved (ENOTFOUND).',
  hint: 'Check the network or DNS.',
};

function entry(name: string, extra: Partial<CacheModelsPlanEntry> = {}): CacheModelsPlanEntry {
  return {
    group: 'nllb',
    name,
    kind: 'hub',
    purpose: 'test',
    optional: false,
    destination: `/hub/${name}`,
    files: 0,
    filesNeeded: 0,
    bytesTotal: 0,
    bytesNeeded: 0,
    gated: false,
    gatedWithoutToken: false,
    ...extra,
  };
}

function plan(entries: CacheModelsPlanEntry[]): CacheModelsPlan {
  const known = entries.filter((e) => e.error === undefined);
  return {
    hubCache: '/hub',
    torchHome: '/torch',
    endpoint: 'https://huggingface.co',
    catalogSources: [],
    selection: 'flags',
    tokenPresent: false,
    entries,
    bytesTotal: known.reduce((n, e) => n + e.bytesTotal, 0),
    bytesNeeded: known.reduce((n, e) => n + e.bytesNeeded, 0),
    volumes: [],
    fits: true,
  };
}

const offline = plan([
  entry('facebook/nllb-200-3.3B', { error: refused }),
  entry('Systran/faster-whisper-large-v3', { error: refused }),
  entry('wav2vec2-english-alignment', { kind: 'url', files: 1, filesNeeded: 1, bytesTotal: 378_000_000, bytesNeeded: 378_000_000 }),
  entry('already-here', { files: 2, bytesTotal: 1000, commit: 'a'.repeat(40) }),
]);

describe('plans that tell the truth', () => {
  it('bootstrap offline: failed entries are not "already cached", the total counts the unknown, the Hub is named once', () => {
    const lines = formatBootstrapPlan(offline);
    const nllb = lines.find((l) => l.includes('facebook/nllb-200-3.3B'));
    expect(nllb).toMatch(/\s\?\s+not planned: the Hub is unreachable/);
    expect(nllb).not.toContain('already cached');
    expect(nllb).not.toContain('0 B');
    expect(lines.find((l) => l.includes('already-here'))).toContain('already cached');
    expect(lines).toContain('  378 MB to download (378 MB in total); 2 entries could not be planned (size unknown).');
    const hubLines = lines.filter((l) => l.includes('could not be reached'));
    expect(hubLines).toEqual(['  The Hub at https://huggingface.co could not be reached (2 entries): huggingface.co could not be resolved (ENOTFOUND).']);
    expect(lines.at(-1)).toContain('HTTPS_PROXY');
    expect(lines.at(-1)).toContain('HF_ENDPOINT');
    expect(lines.filter((l) => l.includes('ENOTFOUND'))).toHaveLength(1);
  });

  it('cache-models --dry-run table and the one-line plan say how many entries are unknown', () => {
    const table = formatPlanTable(offline);
    expect(table).toContain('Total: 378 MB, 378 MB to download; 2 entries could not be planned (size unknown).');
    expect(table.split('\n').filter((l) => l.includes('ENOTFOUND'))).toHaveLength(1);
    expect(table.split('\n').find((l) => l.startsWith('nllb/facebook'))).toMatch(/\?\s+\?\s+\?\s+not planned/);
    expect(planLine(offline)).toBe('Plan: 4 entries, 378 MB in total, 378 MB to download; 2 entries could not be planned (size unknown).');
  });

  it('one entry with its own error keeps its own message; a complete plan has no "unknown" clause', () => {
    const single = plan([entry('org/missing', { error: { code: 'REPO_NOT_FOUND', message: 'org/missing does not exist.' } }), entry('ok', { files: 1, bytesTotal: 5, bytesNeeded: 5, commit: 'b'.repeat(40) })]);
    expect(formatPlanTable(single)).toContain('error: org/missing does not exist.');
    expect(formatPlanTable(single)).not.toContain('could not be reached');
    const fine = plan([entry('ok', { files: 1, bytesTotal: 5, bytesNeeded: 5, commit: 'b'.repeat(40) })]);
    expect(planLine(fine)).toBe('Plan: 1 entry, 5 B in total, 5 B to download.');
  });

  it('a real run with the Hub down says so once, below the entries; a URL artifact keeps its own error', () => {
    const result = (name: string, extra: Partial<CacheModelsEntryResult>): CacheModelsEntryResult => ({
      group: 'g', name, kind: 'hub', status: 'failed', optional: false, destination: '/d', files: 0, bytesFetched: 0, bytesCached: 0, durationMs: 1, ...extra,
    });
    const summary = formatSummary({
      ok: false,
      plan: offline,
      entries: [
        result('facebook/nllb-200-3.3B', { error: refused }),
        result('Systran/faster-whisper-large-v3', { error: refused, optional: true }),
        result('htdemucs', { kind: 'url', error: { code: 'NETWORK_DNS', message: 'dl.example could not be resolved (ENOTFOUND).' } }),
        result('already-here', { status: 'cached', files: 2, bytesCached: 1000 }),
      ],
      bytesFetched: 0,
      bytesCached: 1000,
      allCached: false,
      durationMs: 5,
    }).split('\n');
    expect(summary.filter((l) => l.includes(refused.message))).toEqual([`The Hub at https://huggingface.co could not be reached (2 entries): ${refused.message}`]);
    expect(summary).toContain('  failed  facebook/nllb-200-3.3B: not reached: the Hub is unreachable (below)');
    expect(summary).toContain('  failed  Systran/faster-whisper-large-v3: not reached: the Hub is unreachable (below) (optional)');
    expect(summary.find((l) => l.includes('htdemucs'))).toContain('dl.example could not be resolved');
    expect(summary.some((l) => l.includes('HF_ENDPOINT'))).toBe(true);
  });
});
