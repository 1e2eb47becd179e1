import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatGroupSummaries, summarizeGroups } from '../../catalog/summarize-groups.js';
import type { CacheModelsEvent } from '../../commands/cache-models/index.js';
import { EXIT_CODES, MlcacheError, usageError, type ErrorCode } from '../../errors.js';
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
import { formatPlanTable, formatSummary, hubDown, planLine } from '../ui/cache-models-format.js';
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
