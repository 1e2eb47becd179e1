import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatGroupSummaries, summarizeGroups } from '../../catalog/summarize-groups.js';
import type { CacheModelsEvent, CacheModelsPlan, CacheModelsResult } from '../../commands/cache-models/index.js';
import { EXIT_CODES, MlcacheError, usageError, type ErrorCode } from '../../errors.js';
import { formatBytes, formatDuration } from '../../util/bytes.js';
import {
  addOptions,
  confirmOnTerminal,
  createReporter,
  groupSelection,
  groupSelectionOptions,
  networkOptions,
  outputOptions,
  refuseEmptyValues,
  registryOptions,
  settingsFrom,
  transferOptions,
  type GroupSelectionFlags,
} from '../context.js';
import type { CommandContext } from './index.js';
import { catalogOption, lockfileOption, torchHomeOption } from './options.js';

interface CacheModelsFlags extends GroupSelectionFlags {
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
  force?: boolean;
  cacheDir?: string;
  torchHome?: string;
  token?: string;
  endpoint?: string;
  catalog?: string;
  connections: number;
  stallTimeout: number;
  maxRate?: number;
  skipSpaceCheck?: boolean;
  registry?: string;
  pushMissing?: boolean;
  registryToken?: string;
  insecureRegistry?: string[];
  verbose?: boolean;
  quiet?: boolean;
  frozen?: boolean;
  locked?: boolean;
  lockfile?: string;
}

/** Groups and sizes for --help, read only when help is shown (src/cli → ../../../config). */
function groupsHelp(): string {
  try {
    const file = fileURLToPath(new URL('../../../config/models.json', import.meta.url));
    const summaries = summarizeGroups(JSON.parse(readFileSync(file, 'utf8')));
    return `\nGroups in the shipped catalog (approximate download sizes):\n${formatGroupSummaries(summaries)}\n`;
  } catch {
    return '';
  }
}

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
function hubDown<E extends FailedOnNetwork>(entries: readonly E[]): E[] {
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

export function registerCacheModels(program: Command, context: CommandContext): void {
  const command = program
    .command('cache-models')
    .description('Cache model groups from the catalog (and --model repos) in one run, after checking disk space.');
  addOptions(command, groupSelectionOptions());
  command
    .option('--dry-run', 'print the plan; download nothing')
    .option('--yes', 'never ask; go on past gated repos without a token')
    .option('--force', 'also cache groups whose platform does not match this machine')
    .addOption(torchHomeOption())
    .addOption(catalogOption())
    .option('--skip-space-check', 'download even when the free disk space looks too small')
    .option('--registry <oci://host[/prefix]>', 'try this OCI registry before the Hub (default: MLCACHE_REGISTRY, then the catalog\'s "registry")')
    .option('--push-missing', 'push what came from the Hub to the registry, so the next machine finds it there');
  command
    .option('--frozen', 'fetch exactly what mlcache.lock says: no revision or file-list API call; fail if the catalog and the lock disagree')
    .option('--locked', 'check that mlcache.lock is current, then fetch its commits (the Hub lists each one)')
    .addOption(lockfileOption());
  addOptions(command, [...networkOptions(), ...registryOptions(), ...transferOptions(), ...outputOptions()]);
  refuseEmptyValues(command);
  command.addHelpText('after', () => `${groupsHelp()}
Selection: flags add up; MLCACHE_MODELS / PRELOAD_MODELS are used only when no flag selects anything.
Exit codes: 0 ok, 1 a required entry failed, 2 usage, 3 catalog invalid, 9 not enough disk space.

Examples:
  $ mlcache cache-models --whisperx --group pyannote --dry-run
  $ mlcache cache-models --all --yes
  $ mlcache cache-models --group nllb --model BAAI/bge-m3@main
  $ mlcache cache-models --catalog team-models.json --group embeddings
  $ mlcache cache-models --frozen          # CI: what mlcache.lock says, no Hub API calls`);
  command.action(async (flags: CacheModelsFlags) => {
    if (flags.frozen && flags.locked) throw usageError('--frozen and --locked cannot be combined.', '--frozen trusts the lock; --locked also asks the Hub for each locked commit. Pick one.');
    const { cacheModels, planCacheModels } = await import('../../commands/cache-models/index.js');
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    const interactive = reporter.mode === 'tty' && flags.yes !== true && !settings.ci && process.stdin.isTTY === true;
    let planned = false;
    const options = {
      settings,
      // The spinner starts once the catalog and the selection are known to be valid.
      onPlanning: () => reporter.phase('Planning: resolving revisions and listing files…'),
      ...groupSelection(flags),
      force: flags.force,
      yes: flags.yes,
      interactive,
      token: flags.token,
      catalogPath: flags.catalog,
      connections: flags.connections,
      maxRate: flags.maxRate,
      skipSpaceCheck: flags.skipSpaceCheck,
      registry: flags.registry,
      pushMissing: flags.pushMissing,
      registryToken: flags.registryToken,
      insecureRegistries: flags.insecureRegistry,
      frozen: flags.frozen,
      locked: flags.locked,
      lockfile: flags.lockfile,
      tuning: { engine: { stallTimeoutMs: flags.stallTimeout * 1000 } },
      signal: context.signal,
      confirm: confirmOnTerminal(context.output),
      onEvent: (event: CacheModelsEvent) => {
        if (event.type === 'entry-done') return;
        // Retries while planning (a Hub that refuses) are summed up by the plan, once, with the
        // cause and the fix; --verbose shows each.
        if (event.type === 'retry' && !planned && flags.verbose !== true) return;
        if (event.type === 'plan') {
          planned = true;
          if (flags.dryRun) return; // printed in full below
          if (reporter.mode === 'json') reporter.json({ type: 'plan', ...event.plan });
          else reporter.info(planLine(event.plan));
          return;
        }
        reporter.onEvent(event);
      },
    };
    try {
      if (flags.dryRun) {
        const plan = await planCacheModels(options);
        reporter.finish();
        if (reporter.mode === 'json') reporter.json({ type: 'plan', ...plan });
        else context.output.stdout.write(formatPlanTable(plan));
        // A dry run exits as the real run would, as far as the plan can tell, so a CI check
        // (`cache-models --dry-run`) fails when an entry cannot be resolved or is gated without a token.
        const blocked = plan.entries.filter((e) => !e.optional && e.skipped === undefined && (e.error !== undefined || e.gatedWithoutToken));
        if (blocked.length > 0) {
          const codes = new Set(blocked.map((e) => (e.gatedWithoutToken ? 'GATED_REPO' : e.error?.code)));
          const [only] = codes;
          const attempted = plan.entries.filter((e) => e.skipped === undefined);
          const code = blocked.length === attempted.length && codes.size === 1 && only !== undefined && only in EXIT_CODES ? (only as ErrorCode) : 'PARTIAL_FAILURE';
          const optionalToo = plan.entries.filter((e) => e.optional && e.skipped === undefined && (e.error !== undefined || e.gatedWithoutToken)).length;
          const also = optionalToo === 0 ? '' : `; ${optionalToo} optional ${optionalToo === 1 ? 'entry' : 'entries'} could not be planned either, which does not fail the run`;
          throw new MlcacheError(code, `${blocked.length} required ${blocked.length === 1 ? 'entry' : 'entries'} could not be planned: ${blocked.map((e) => `${e.group}/${e.name}`).join(', ')}${also}.`, {
            hint: blocked.some((e) => e.gatedWithoutToken)
              ? 'Request access to the gated repos (pages above) and set HF_TOKEN; fix the errors shown, then run again.'
              : 'Fix the errors shown in the table (endpoint, network, repo names), then run again.',
            details: { blocked: blocked.map((e) => ({ group: e.group, name: e.name, error: e.error, gatedWithoutToken: e.gatedWithoutToken })) },
          });
        }
        return;
      }
      const result = await cacheModels(options);
      reporter.finish();
      if (reporter.mode === 'json') {
        reporter.json({ type: 'result', ok: result.ok, entries: result.entries, bytesFetched: result.bytesFetched, bytesCached: result.bytesCached, allCached: result.allCached, durationMs: result.durationMs });
      } else if (reporter.mode !== 'quiet' || !result.ok) {
        context.output.stderr.write(`${formatSummary(result)}\n`);
      }
      if (!result.ok) {
        const failed = result.entries.filter((e) => e.status === 'failed' && !e.optional);
        // Nothing succeeded and every failure has one cause (Hub down, bad token): exit with that cause's code.
        const attempted = result.entries.filter((e) => e.status !== 'skipped');
        const codes = new Set(failed.map((e) => e.error?.code));
        const [only] = codes;
        const code = failed.length === attempted.length && codes.size === 1 && only !== undefined && only in EXIT_CODES ? (only as ErrorCode) : 'PARTIAL_FAILURE';
        throw new MlcacheError(code, `${failed.length} of ${result.entries.length} entries failed: ${failed.map((e) => `${e.group}/${e.name}`).join(', ')}.`, {
          hint: failed.some((e) => e.error?.code === 'GATED_REPO')
            ? 'Request access to the gated repos (pages above), set HF_TOKEN, and run again; cached entries are kept.'
            : hubDown(result.entries).length > 0
              ? 'Reach the Hub first (network, HTTPS_PROXY, HF_ENDPOINT; above), then run the same command again; finished files are kept.'
              : 'Run the same command again; finished files are kept and only the rest is fetched.',
          details: { failed: failed.map((e) => ({ group: e.group, name: e.name, error: e.error })) },
        });
      }
    } finally {
      reporter.finish();
    }
  });
}
