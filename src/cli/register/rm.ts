import { Option, type Command } from 'commander';
import { confirmIfInteractive, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption, jsonOption, printResult } from './options.js';

interface RmFlags {
  repoType: 'model' | 'dataset' | 'space';
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  cacheDir?: string;
}

export function registerRm(program: Command, context: CommandContext): void {
  const command = program
    .command('rm')
    .description('Remove a cached repo, or one revision of it (blobs another revision uses are kept).')
    .argument('<repo[@rev]>', 'repo id, optionally @branch, @tag or @commit')
    .addOption(new Option('--repo-type <type>', 'repo type').choices(['model', 'dataset', 'space']).default('model'))
    .option('--yes', 'do not ask')
    .option('--dry-run', 'show what would be removed')
    .addOption(cacheDirOption())
    .addOption(jsonOption());
  refuseEmptyValues(command);
  command.action(async (spec: string, flags: RmFlags) => {
    const [{ rm }, { formatBytes }] = await Promise.all([import('../../commands/rm.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const result = await rm({
      settings,
      spec,
      repoType: flags.repoType,
      yes: flags.yes,
      dryRun: flags.dryRun,
      confirm: confirmIfInteractive(context.output, flags, settings),
    });
    printResult(context.output, flags, result, () => {
      const what = result.commit === undefined ? result.repo : `${result.repo}@${result.commit.slice(0, 12)}`;
      const kept = result.plan.keptBlobs > 0 ? `; ${result.plan.keptBlobs} blob(s) kept for other revisions` : '';
      return result.dryRun
        ? `Would remove ${what}: ${result.plan.paths.length} path(s), ${formatBytes(result.plan.bytes)}${kept}.\n`
        : `Removed ${what}: ${formatBytes(result.bytesFreed)} freed${kept}.\n`;
    });
  });
}
