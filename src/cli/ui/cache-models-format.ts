/**
 * cache-models as text for a person: the plan table (`--dry-run`) and the one-line plan before a
 * run, the end-of-run summary, and the notes bootstrap's prompt shares. Plans never guess: an entry
 * that could not be planned shows `?`, and a Hub that is down is said once. Pure.
 */
import type { CacheModelsPlan, CacheModelsResult } from '../../commands/cache-models/index.js';
import { formatBytes, formatDuration } from '../../util/bytes.js';

function statusWord(status: string): string {
  return status.padEnd(7);
}

/** Registry-first: where an entry's missing files will come from, and why not the registry. */
function sourceNote(e: CacheModelsPlan['entries'][number]): string {
  if (e.source === 'registry') return ` from ${e.registry ?? 'the registry'}`;
  if (e.source === 'hub') return ` from the Hub (registry: ${e.registryMiss ?? 'miss'})`;
  return '';
}

type PlanEntry = CacheModelsPlan['entries'][number];

interface FailedOnNetwork {
  kind: 'hub' | 'url';
  error?: { code: string; message: string; hint?: string | undefined } | undefined;
}

/** A Hub entry that failed on the network (DNS, refused, reset, timeout, TLS, proxy). */
function unreachable(e: FailedOnNetwork): boolean {
  return e.kind === 'hub' && e.error !== undefined && e.error.code.startsWith('NETWORK');
}

/** The Hub entries that failed on the network, when two or more failed the same way: the Hub (or the way to it) is down. */
export function hubDown<E extends FailedOnNetwork>(entries: readonly E[]): E[] {
  const failed = entries.filter(unreachable);
  return failed.length >= 2 && new Set(failed.map((e) => e.error?.code)).size === 1 ? failed : [];
}

/** The Hub being down, said once: the endpoint, the cause, the fix. */
function hubDownLines(endpoint: string, failed: readonly FailedOnNetwork[]): string[] {
  const first = failed[0]?.error;
  if (first === undefined) return [];
  return [
    `The Hub at ${endpoint} could not be reached (${failed.length} entries): ${first.message}`,
    `  ${first.hint ?? 'Check the network.'} Offline on purpose? Use \`mlcache offline-check\`. Behind a proxy? Set HTTPS_PROXY. A mirror? Set HF_ENDPOINT.`,
  ];
}

/**
 * What a plan can honestly total: the bytes of the entries it could plan, and how many it could
 * not (their size is unknown, not 0 B). Pure.
 */
export function planTotals(plan: CacheModelsPlan): { bytesTotal: number; bytesNeeded: number; unknown: number } {
  const unknown = plan.entries.filter((e) => e.skipped === undefined && e.error !== undefined).length;
  return { bytesTotal: plan.bytesTotal, bytesNeeded: plan.bytesNeeded, unknown };
}

function unknownSuffix(unknown: number): string {
  return unknown === 0 ? '' : `; ${unknown} ${unknown === 1 ? 'entry' : 'entries'} could not be planned (size unknown)`;
}

/**
 * One note per entry for a plan listing (cache-models --dry-run, the bootstrap prompt): an entry
 * that could not be planned is never "cached". Pure.
 */
export function planEntryNote(e: PlanEntry, options: { sharedUnreachable: boolean }): string {
  if (e.skipped) return `skipped: ${e.skipped}`;
  if (e.gatedWithoutToken) return `gated, no token: request access at ${e.accessUrl ?? ''}`;
  if (e.error) return options.sharedUnreachable && unreachable(e) ? 'not planned: the Hub is unreachable (below)' : `error: ${e.error.message}`;
  if (e.bytesNeeded === 0) return 'cached';
  if (e.commit) return `@ ${e.commit.slice(0, 12)}${e.optional ? ' (optional)' : ''}${sourceNote(e)}`;
  return e.optional ? '(optional)' : '';
}

/**
 * When two or more entries failed on the network the same way, the Hub (or the way to it) is
 * down: say it once, with the endpoint, the cause and the fix, instead of one line per entry.
 */
export function unreachableLines(plan: CacheModelsPlan): string[] {
  return hubDownLines(plan.endpoint, hubDown(plan.entries));
}

const sizeOrUnknown = (e: PlanEntry, bytes: number) => (e.error !== undefined ? '?' : formatBytes(bytes));

/** The plan as a table (dry-run) — one line per entry and the totals per volume. */
export function formatPlanTable(plan: CacheModelsPlan): string {
  const lines: string[] = [];
  const width = Math.max(10, ...plan.entries.map((e) => `${e.group}/${e.name}`.length));
  const down = unreachableLines(plan);
  lines.push(`${'ENTRY'.padEnd(width)}  ${'FILES'.padStart(5)}  ${'TOTAL'.padStart(9)}  ${'TO FETCH'.padStart(9)}  NOTE`);
  for (const e of plan.entries) {
    const note = planEntryNote(e, { sharedUnreachable: down.length > 0 });
    lines.push(
      `${`${e.group}/${e.name}`.padEnd(width)}  ${(e.error !== undefined ? '?' : String(e.files)).padStart(5)}  ${sizeOrUnknown(e, e.bytesTotal).padStart(9)}  ${sizeOrUnknown(e, e.bytesNeeded).padStart(9)}  ${note}`,
    );
    if (e.localDir !== undefined) lines.push(`  local_dir ${e.localDir}${e.localFilesNeeded === undefined ? '' : `: ${e.localFilesNeeded} of ${e.files} files to write`}`);
  }
  const totals = planTotals(plan);
  lines.push(`Total: ${formatBytes(totals.bytesTotal)}, ${formatBytes(totals.bytesNeeded)} to download${unknownSuffix(totals.unknown)}.`);
  lines.push(...down);
  if (plan.registry !== undefined) {
    const hits = plan.entries.filter((e) => e.source === 'registry').length;
    lines.push(`Registry ${plan.registry}: ${hits} of ${plan.entries.filter((e) => e.kind === 'hub' && !e.skipped).length} Hub entries served from it.`);
  }
  for (const v of plan.volumes) {
    const free = v.bytesFree === undefined ? 'free space unknown' : `${formatBytes(v.bytesFree)} free`;
    lines.push(`  ${v.roots.join(', ')}: ${formatBytes(v.bytesNeeded)} needed (${formatBytes(v.bytesRequired)} with margin), ${free}${v.fits ? '' : ' — NOT ENOUGH'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line before the downloads start. */
export function planLine(plan: CacheModelsPlan): string {
  const active = plan.entries.filter((e) => !e.skipped);
  const skipped = plan.entries.length - active.length;
  const totals = planTotals(plan);
  return `Plan: ${active.length} ${active.length === 1 ? 'entry' : 'entries'}, ${formatBytes(totals.bytesTotal)} in total, ${formatBytes(totals.bytesNeeded)} to download` +
    `${skipped > 0 ? `, ${skipped} skipped on this platform` : ''}${unknownSuffix(totals.unknown)}.`;
}

/** The end-of-run summary per group and entry. */
export function formatSummary(result: CacheModelsResult): string {
  const lines: string[] = [];
  const down = new Set(hubDown(result.entries));
  let group = '';
  for (const e of result.entries) {
    if (e.group !== group) {
      group = e.group;
      lines.push(`${group}:`);
    }
    const commit = `${e.commit ? ` @ ${e.commit.slice(0, 12)}` : ''}${e.source === 'registry' && e.status !== 'cached' ? ' (from the registry)' : ''}`;
    let detail: string;
    if (e.status === 'skipped') detail = e.reason ?? '';
    else if (e.status === 'failed' && down.has(e)) detail = `not reached: the Hub is unreachable (below)${e.optional ? ' (optional)' : ''}`;
    else if (e.status === 'failed') detail = `${e.error?.message ?? 'failed'}${e.error?.hint ? `\n      ${e.error.hint}` : ''}${e.optional ? ' (optional)' : ''}`;
    else detail = `${e.files} files, ${formatBytes(e.bytesFetched)} fetched, ${formatBytes(e.bytesCached)} cached, ${formatDuration(e.durationMs)}`;
    lines.push(`  ${statusWord(e.status)} ${e.name}${commit}: ${detail}`);
    if (e.localDir) {
      const { placed } = e.localDir;
      const written = placed.reflink + placed.copy;
      const how = written === 0 ? '' : ` (${[['reflinked', placed.reflink], ['copied', placed.copy]].filter(([, n]) => n !== 0).map(([w, n]) => `${n} ${w}`).join(', ')})`;
      lines.push(`          local_dir ${e.localDir.path}: ${written} written${how}, ${e.localDir.upToDate} up to date`);
    }
    if (e.pushed) lines.push(`          pushed to ${e.pushed}`);
    if (e.pushError) lines.push(`          push failed: ${e.pushError.message}`);
  }
  lines.push(...hubDownLines(result.plan.endpoint, [...down]));
  lines.push(
    result.allCached
      ? 'Everything selected was already cached; nothing was downloaded.'
      : `Fetched ${formatBytes(result.bytesFetched)}, ${formatBytes(result.bytesCached)} already cached, in ${formatDuration(result.durationMs)}.`,
  );
  return lines.join('\n');
}
