import type { Command } from 'commander';
import type { LockChange, LockResult } from '../../commands/lock/index.js';
import type { OutdatedResult } from '../../commands/outdated.js';
import { usageError } from '../../errors.js';
import { formatBytes } from '../../util/bytes.js';
import { cutValue } from '../../util/cut-value.js';
import { addOptions, groupSelection, groupSelectionOptions, networkOptions, refuseEmptyValues, settingsFrom, type GroupSelectionFlags } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheLocationOptions, catalogOption, jsonOption, lockfileOption, printResult } from './options.js';

interface LockFlags extends GroupSelectionFlags {
  force?: boolean;
  platform?: { os: string; arch: string };
  lockfile?: string;
  catalog?: string;
  upgrade?: boolean;
  cacheDir?: string;
  token?: string;
  endpoint?: string;
  json?: boolean;
}

/** `--platform linux-x64` / `darwin-arm64` (Node's process.platform and process.arch). */
export function parsePlatform(value: string): { os: string; arch: string } {
  const match = /^([a-z0-9]+)[-/]([a-z0-9_]+)$/.exec(value.trim());
  if (!match) {
    throw usageError(`--platform must be OS-ARCH such as linux-x64 or darwin-arm64, not "${cutValue(value)}".`, 'Use Node’s names: process.platform (linux, darwin, win32) and process.arch (x64, arm64).');
  }
  return { os: match[1]!, arch: match[2]! };
}

function signed(n: number): string {
  return n >= 0 ? `+${formatBytes(n)}` : `-${formatBytes(-n)}`;
}

/** One line per change: `nllb/org/x: abc123 → def456 (2 files added, 1 removed, 0 changed; +1.2 MB)`. */
export function formatLockChange(change: LockChange): string {
  const commits =
    change.commitBefore && change.commitAfter && change.commitBefore !== change.commitAfter
      ? ` ${change.commitBefore.slice(0, 12)} → ${change.commitAfter.slice(0, 12)}`
      : change.commitAfter && !change.commitBefore
        ? ` @ ${change.commitAfter.slice(0, 12)}`
        : '';
  const f = change.files;
  const files = f
    ? ` (${f.added.length} files added, ${f.removed.length} removed, ${f.changed.length} changed; ${formatBytes(f.bytesAfter)}, ${signed(f.bytesAfter - f.bytesBefore)})`
    : '';
  return `${change.kind.padEnd(8)} ${change.entry}${commits}${files}`;
}

const entries = (n: number): string => `${n} ${n === 1 ? 'entry' : 'entries'}`;

export function formatLockResult(result: LockResult): string {
  const lines = result.changes.map(formatLockChange);
  lines.push(
    result.written
      ? `Wrote ${result.lockfile} (${entries(result.lock.entries.length)}).`
      : `${result.lockfile} is up to date (${entries(result.lock.entries.length)}); not rewritten.`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatOutdated(result: OutdatedResult): string {
  if (result.outdated.length === 0) return `All ${result.checked} locked revisions still point at their locked commits.\n`;
  const lines = result.outdated.map((o) => {
    const f = o.files;
    const size = f
      ? `${f.added.length} files added, ${f.removed.length} removed, ${f.changed.length} changed; ${formatBytes(f.bytesBefore)} → ${formatBytes(f.bytesAfter)} (${signed(f.bytesAfter - f.bytesBefore)})`
      : 'file changes unknown';
    return `${o.entry}: ${o.revision} moved ${o.lockedCommit.slice(0, 12)} → ${o.currentCommit.slice(0, 12)} (${size})`;
  });
  lines.push(`${result.outdated.length} of ${result.checked} locked revisions moved; \`mlcache lock --upgrade\` takes them.`);
  return `${lines.join('\n')}\n`;
}

export function registerLock(program: Command, context: CommandContext): void {
  const command = program
    .command('lock')
    .description('Resolve the selected catalog entries to commits and files and write mlcache.lock (for cache-models --frozen).')
    .argument('[entry...]', 'with --upgrade: only these entries (group/name, name or repo id)');
  addOptions(command, groupSelectionOptions({ all: 'every group that applies to the platform (the default for a new lock)' }));
  command
    .option('--force', 'also lock groups whose platform does not match')
    .option('--platform <os-arch>', 'lock for another platform, e.g. darwin-arm64 (default: the lock’s, else this machine)', parsePlatform)
    .option('--upgrade', 'move entries to their revision’s current commit (all, or the ENTRY arguments)')
    .addOption(lockfileOption())
    .addOption(catalogOption())
    .addOption(jsonOption());
  addOptions(command, networkOptions());
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
An entry the lock already satisfies keeps its commit (no request); the file is rewritten only when
its bytes change. Commit mlcache.lock; CI runs \`mlcache cache-models --frozen\`.

Examples:
  $ mlcache lock                         # new lock: --all for this machine; else the lock's selection
  $ mlcache lock --group whisperx --group nllb
  $ mlcache lock --platform darwin-arm64 --lockfile mlcache.darwin-arm64.lock
  $ mlcache lock --upgrade               # every entry to its revision's current commit
  $ mlcache lock --upgrade nllb/facebook/nllb-200-distilled-600M`,
  );
  command.action(async (entries: string[], flags: LockFlags) => {
    if (entries.length > 0 && flags.upgrade !== true) throw usageError('Entry arguments are only taken with --upgrade.', 'Run `mlcache lock --upgrade ENTRY…`, or select with --group / --model.');
    const { lock } = await import('../../commands/lock/index.js');
    const settings = await settingsFrom(context.output, flags);
    const result = await lock({
      settings,
      ...groupSelection(flags),
      force: flags.force,
      platform: flags.platform,
      catalogPath: flags.catalog,
      lockfile: flags.lockfile,
      upgrade: flags.upgrade,
      upgradeEntries: entries,
      token: flags.token,
      signal: context.signal,
    });
    printResult(context.output, flags, { lockfile: result.lockfile, written: result.written, changes: result.changes }, () => formatLockResult(result));
  });
}

interface CacheKeyFlags extends GroupSelectionFlags {
  force?: boolean;
  platform?: { os: string; arch: string };
  lockfile?: string;
  catalog?: string;
  paths?: boolean;
  cacheDir?: string;
  torchHome?: string;
}

export function registerCacheKey(program: Command, context: CommandContext): void {
  const command = program
    .command('cache-key')
    .description('Print a cache key for actions/cache or GitLab cache from mlcache.lock, the selection and the platform (no network).');
  addOptions(command, groupSelectionOptions());
  command
    .option('--force', 'the selection includes --force')
    .option('--platform <os-arch>', 'key for another platform (default: this machine)', parsePlatform)
    .option('--paths', 'print the folders to cache instead (HF hub cache, TORCH_HOME, MLX_CACHE_DIR), one a line')
    .addOption(lockfileOption());
  addOptions(command, cacheLocationOptions());
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
The key is mlcache-<os>-<arch>-<16 hex>; it changes exactly when the lock's content, the selection
(default: the lock's) or the platform changes.

Examples:
  $ echo "key=$(mlcache cache-key)" >> "$GITHUB_OUTPUT"
  $ mlcache cache-key --paths`,
  );
  command.action(async (flags: CacheKeyFlags) => {
    const { cacheKeyFor } = await import('../../commands/cache-key.js');
    const settings = await settingsFrom(context.output, flags);
    const result = await cacheKeyFor({ settings, ...groupSelection(flags), force: flags.force, platform: flags.platform, lockfile: flags.lockfile, catalogPath: flags.catalog });
    context.output.stdout.write(flags.paths ? `${result.paths.join('\n')}\n` : `${result.key}\n`);
  });
}

interface OutdatedFlags {
  lockfile?: string;
  catalog?: string;
  json?: boolean;
  cacheDir?: string;
  token?: string;
  endpoint?: string;
}

export function registerOutdated(program: Command, context: CommandContext): void {
  const command = program
    .command('outdated')
    .description('List locked entries whose revision now points at another commit, with the size of the change (one revision call per repo).')
    .addOption(lockfileOption())
    .addOption(catalogOption())
    .addOption(jsonOption());
  addOptions(command, networkOptions());
  refuseEmptyValues(command);
  command.action(async (flags: OutdatedFlags) => {
    const { outdated } = await import('../../commands/outdated.js');
    const settings = await settingsFrom(context.output, flags);
    const result = await outdated({ settings, lockfile: flags.lockfile, catalogPath: flags.catalog, token: flags.token, signal: context.signal });
    printResult(context.output, flags, result, () => formatOutdated(result));
  });
}
