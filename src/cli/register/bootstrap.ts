import { Option, type Command } from 'commander';
import type { BootstrapEvent, BootstrapResult } from '../../commands/bootstrap.js';
import type { CacheModelsPlan } from '../../commands/cache-models/plan-schema.js';
import { formatBytes } from '../../util/bytes.js';
import { redact } from '../../util/redact.js';
import { addOptions, canAsk, groupSelection, groupSelectionOptions, refuseEmptyValues, settingsFrom, type GroupSelectionFlags } from '../context.js';
import { planEntryNote, planTotals, unreachableLines } from '../ui/cache-models-format.js';
import type { Output } from '../output.js';
import type { CommandContext } from './index.js';
import { catalogOption, jsonOption, printResult, tokenOption } from './options.js';

interface BootstrapFlags extends GroupSelectionFlags {
  root?: string;
  cacheModels?: boolean;
  skipCache?: boolean;
  yes?: boolean;
  force?: boolean;
  json?: boolean;
  token?: string;
  catalog?: string;
}

/** A yes/no question on the terminal (drawn through the door); only "y"/"yes" count as yes (the default is no). */
async function askYesNo(output: Output, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: output.stdout.stream });
  try {
    const answer = await rl.question(`${question} `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function registerBootstrap(program: Command, context: CommandContext): void {
  const command = program
    .command('bootstrap')
    .description('Detect the hardware, create the .cache tree, write config/hardware_cache.json, and optionally cache the models.')
    .option('--root <dir>', 'project root (default: the current directory)')
    .addOption(new Option('--cache-models', 'cache the selected model groups now').conflicts('skipCache'))
    .addOption(new Option('--skip-cache', 'do not cache models (and do not ask)'));
  addOptions(command, groupSelectionOptions({ all: 'every model group that applies to this machine (the default)', model: false }));
  command
    .addOption(catalogOption())
    .addOption(tokenOption())
    .option('-y, --yes', 'answer yes to the caching question')
    .option('--force', 'rewrite a malformed config/hardware_cache.json (a backup is kept)')
    .addOption(jsonOption());
  command.addHelpText(
    'after',
    `
Examples:
  $ mlcache bootstrap                        # asks before downloading (on a terminal)
  $ mlcache bootstrap --cache-models --all   # CI: no questions, cache everything that applies
  $ mlcache bootstrap --skip-cache --root ./project`,
  );
  refuseEmptyValues(command);
  command.action(async (flags: BootstrapFlags) => {
    const { bootstrap } = await import('../../commands/bootstrap.js');
    const settings = await settingsFrom(context.output, {}, { cacheNote: false });
    const { groups, all } = groupSelection(flags);
    const json = flags.json === true;
    const interactive = canAsk(flags, settings, context.output);
    const log = (line: string) => {
      if (!json) context.output.stderr.write(`${line}\n`);
    };
    const result = await bootstrap({
      settings,
      root: flags.root,
      caching: flags.cacheModels ? 'cache' : flags.skipCache ? 'skip' : 'ask',
      groups,
      all,
      yes: flags.yes,
      force: flags.force,
      token: flags.token,
      catalogPath: flags.catalog,
      interactive,
      confirm: (question) => askYesNo(context.output, question),
      cacheModelsApi: () => import('../../commands/cache-models/index.js'),
      signal: context.signal,
      onEvent: (event) => renderEvent(context.output, event, json, log),
    });
    printResult(context.output, flags, jsonResult(result), () => summary(result));
    if (result.caching.status === 'failed') context.setExitCode(1);
  });
}

/**
 * The plan bootstrap shows above its "cache these models?" question. An entry that could not be
 * planned (offline, DNS) is never "already cached" and its size is unknown; the total says how many
 * are unknown; a Hub that cannot be reached is said once. Pure.
 */
export function formatBootstrapPlan(plan: CacheModelsPlan): string[] {
  const lines = ['Models that would be cached:'];
  const down = unreachableLines(plan);
  for (const e of plan.entries) {
    // An entry that could not be planned (offline, DNS) is never "already cached", and its size is unknown.
    const note = e.gatedWithoutToken && !e.skipped ? 'gated: needs HF_TOKEN' : planEntryNote(e, { sharedUnreachable: down.length > 0 }).replace(/^cached$/, 'already cached');
    const size = e.error !== undefined && !e.skipped ? '?' : formatBytes(e.bytesNeeded);
    lines.push(`  ${e.group.padEnd(12)} ${e.name.padEnd(44)} ${size.padStart(9)}  ${note}`.trimEnd());
  }
  const totals = planTotals(plan);
  const unknown = totals.unknown === 0 ? '' : `; ${totals.unknown} ${totals.unknown === 1 ? 'entry' : 'entries'} could not be planned (size unknown)`;
  lines.push(`  ${formatBytes(totals.bytesNeeded)} to download (${formatBytes(totals.bytesTotal)} in total)${unknown}.`);
  lines.push(...down.map((l) => `  ${l.trimStart()}`));
  return lines;
}

function renderEvent(output: Output, event: BootstrapEvent, json: boolean, log: (line: string) => void): void {
  if (json) return;
  if (event.type === 'step') log(`- ${event.message}`);
  else if (event.type === 'plan') {
    // On stdout, right above the question it informs.
    const lines = formatBootstrapPlan(event.plan);
    output.stdout.write(`${lines.join('\n')}\n`);
  } else if (event.event.type === 'entry-done') {
    const e = event.event.entry;
    const what = e.status === 'failed' ? `failed: ${e.error?.message ?? 'unknown error'}` : e.status === 'fetched' ? `fetched ${formatBytes(e.bytesFetched)}` : e.status;
    log(`  ${e.group}/${e.name}: ${redact(what)}`);
  }
}

const GIB = 1024 ** 3;
const gib = (bytes: number | undefined) => (bytes === undefined ? 'unknown' : `${(bytes / GIB).toFixed(1)} GiB`);

function summary(r: BootstrapResult): string {
  const hw = r.hardware;
  const out: string[] = ['', 'Detected'];
  out.push(`  OS       ${hw.os.version ?? hw.os.name} (${hw.os.name} ${hw.os.release}), ${hw.machine}`);
  out.push(`  CPU      ${hw.cpu.model ?? 'unknown'}, ${hw.cpu.cores ?? '?'} cores / ${hw.cpu.threads} threads`);
  out.push(`  Memory   ${gib(hw.memory.totalBytes)}`);
  // GiB, as disk_free_gb in config/hardware_cache.json (and Memory above): one unit on the screen and in the file.
  out.push(`  Disk     ${gib(hw.disk.freeBytes)} free at ${hw.disk.path}`);
  if (hw.gpus.length === 0) out.push('  GPU      none');
  for (const g of hw.gpus) {
    const extra = g.vendor === 'nvidia' ? `, driver ${g.driverVersion ?? '?'}, CUDA ${g.cudaVersion ?? '?'}, compute ${g.computeCapability ?? '?'}` : '';
    out.push(`  GPU ${String(g.index).padEnd(4)} ${g.name}, ${gib(g.memoryBytes)}${extra}`);
  }
  for (const [name, t] of Object.entries(hw.tools)) {
    out.push(`  ${name.padEnd(8)} ${t.status}${t.status === 'failed' ? `: ${t.message}` : ''}`);
  }
  out.push('', 'Recommended');
  const rec = r.recommendations;
  const rows: Array<[string, unknown, string]> = [
    ['device', rec.device.value, rec.device.reason],
    ['compute_type', rec.computeType.value, rec.computeType.reason],
    ['batch_size', rec.batchSize.value, rec.batchSize.reason],
    ['whisper', `${rec.whisperBackend.value} ${rec.whisperModel.value}`, rec.whisperBackend.reason],
    ['groups', rec.modelGroups.value.join(', '), rec.modelGroups.reason],
  ];
  for (const [k, v, why] of rows) out.push(`  ${k.padEnd(13)} ${String(v).padEnd(10)} ${why}`);
  out.push('', 'Created');
  out.push(`  ${r.configFile} (${r.configAction === 'updated' ? 'updated; your cache settings were kept' : r.configAction})`);
  if (r.backupFile) out.push(`  ${r.backupFile} (backup of the malformed file)`);
  for (const d of r.createdDirs) out.push(`  ${d}/`);
  if (r.createdDirs.length === 0) out.push('  (the cache directories already existed)');
  out.push('', 'Environment');
  for (const [k, v] of Object.entries(r.environment)) out.push(`  ${k}=${v}`);
  out.push('', 'Models');
  const c = r.caching;
  if (c.status === 'done') {
    const fetched = c.result.entries.reduce((n, e) => n + e.bytesFetched, 0);
    out.push(`  cached: ${c.result.entries.length} entries, ${formatBytes(fetched)} downloaded`);
  } else if (c.status === 'failed') {
    for (const e of c.result?.entries.filter((x) => x.status === 'failed') ?? []) {
      out.push(`  failed: ${e.group}/${e.name}: ${redact(e.error?.message ?? 'unknown error')}${e.error?.hint ? ` (${redact(e.error.hint)})` : ''}`);
    }
    if (c.error) out.push(`  failed: ${redact(c.error.message)}${c.error.hint ? ` (${redact(c.error.hint)})` : ''}`);
    out.push('  The bootstrap itself is complete; retry the caching with:', `    ${c.retry}`);
  } else {
    out.push(`  not cached (${c.reason}); to cache them later:`, `    ${c.later}`);
  }
  out.push('', 'Next steps');
  for (const step of r.nextSteps) out.push(`  ${step}`);
  return `${out.join('\n')}\n`;
}

function jsonResult(r: BootstrapResult): Record<string, unknown> {
  const { result: cacheResult, ...caching } = r.caching as BootstrapResult['caching'] & { result?: unknown };
  return {
    type: 'result',
    root: r.root,
    configFile: r.configFile,
    configAction: r.configAction,
    backupFile: r.backupFile ?? null,
    createdDirs: r.createdDirs,
    hardware: r.config.hardware,
    recommendations: r.config.recommendations,
    cache: r.config.cache,
    environment: r.environment,
    caching: { ...caching, ...(cacheResult ? { result: cacheResult } : {}) },
    nextSteps: r.nextSteps,
  };
}
