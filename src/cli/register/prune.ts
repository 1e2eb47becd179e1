import type { Command } from 'commander';
import type { PruneResult } from '../../commands/prune.js';
import { confirmIfInteractive, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption, catalogOption, jsonOption, printResult } from './options.js';

interface PruneFlags {
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  cacheDir?: string;
  catalog?: string;
}

export function registerPrune(program: Command, context: CommandContext): void {
  const command = program
    .command('prune')
    .description('Free space: stale partial downloads, orphan blobs, and (after asking) revisions no ref points to.')
    .option('--dry-run', 'show what would be removed; remove nothing')
    .option('--yes', 'also remove unreferenced revisions without asking')
    .addOption(cacheDirOption())
    .addOption(catalogOption())
    .addOption(jsonOption());
  command.addHelpText('after', '\nCommits the catalog pins (shipped, project and --catalog) are kept.');
  refuseEmptyValues(command);
  command.action(async (flags: PruneFlags) => {
    const [{ prune }, { formatBytes }] = await Promise.all([import('../../commands/prune.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const result = await prune({
      settings,
      dryRun: flags.dryRun,
      yes: flags.yes,
      catalogPath: flags.catalog,
      confirm: confirmIfInteractive(context.output, flags, settings),
    });
    printResult(context.output, flags, result, () => humanPrune(result, formatBytes));
  });
}

function humanPrune(result: PruneResult, formatBytes: (bytes: number) => string): string {
    const p = result.plan;
    const verb = result.dryRun ? 'would remove' : 'removed';
    const lines: string[] = [];
    for (const x of [...p.partials, ...p.orphanBlobs]) lines.push(`${verb} ${x.path} (${formatBytes(x.bytes)}): ${x.reason}`);
    for (const r of p.revisions) {
      const what = `${r.repo}@${r.commit.slice(0, 12)} (no ref; ${r.blobs.length} blob(s), ${formatBytes(r.snapshotBytes + r.blobs.reduce((a, b) => a + b.bytes, 0))})`;
      lines.push(result.revisionsIncluded ? `${verb} revision ${what}` : `kept revision ${what}: ${result.revisionsLeftReason ?? ''}`);
    }
    for (const k of p.kept) lines.push(`kept ${k.path}: ${k.reason}`);
    for (const f of result.failed) lines.push(`failed to remove ${f.path}: ${f.message}`);
    const freed = result.dryRun
      ? p.bytes.partials + p.bytes.orphanBlobs + (result.revisionsIncluded ? p.bytes.revisions : 0)
      : result.bytesFreed;
    lines.push(`${result.dryRun ? 'Would free' : 'Freed'} ${formatBytes(freed)}.`);
    if (!result.revisionsIncluded && p.revisions.length > 0) lines.push('Run `mlcache prune --yes` to remove the revisions no ref points to as well.');
    return `${lines.join('\n')}\n`;
}
