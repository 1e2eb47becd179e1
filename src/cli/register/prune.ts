import type { Command } from 'commander';
import { addOptions, confirmIfInteractive, outputOptions, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';

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
    .option('--cache-dir <dir>', 'hub cache directory')
    .option('--catalog <file>', 'a user catalog (its commit pins are kept)');
  addOptions(command, outputOptions().filter((o) => o.long === '--json'));
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
    if (flags.json) {
      context.output.stdout.write(`${JSON.stringify({ type: 'result', ...result })}\n`);
      return;
    }
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
    context.output.stdout.write(`${lines.join('\n')}\n`);
  });
}
