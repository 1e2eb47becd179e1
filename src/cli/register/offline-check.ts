import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { addOptions, groupSelection, groupSelectionOptions, refuseEmptyValues, settingsFrom, type GroupSelectionFlags } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheLocationOptions, jsonOption, lockfileOption, printResult } from './options.js';

interface OfflineCheckFlags extends GroupSelectionFlags {
  json?: boolean;
  cacheDir?: string;
  torchHome?: string;
  catalog?: string;
  frozen?: boolean;
  lockfile?: string;
}

export function registerOfflineCheck(program: Command, context: CommandContext): void {
  const command = program
    .command('offline-check')
    .description('Prove, without any network access, that the selected groups load with HF_HUB_OFFLINE=1.');
  addOptions(command, groupSelectionOptions());
  command
    .option('--frozen', 'check the commits and files mlcache.lock names (every locked entry, or those the flags select)')
    .addOption(lockfileOption());
  addOptions(command, [...cacheLocationOptions(), jsonOption()]);
  refuseEmptyValues(command);
  command.action(async (flags: OfflineCheckFlags) => {
    const { offlineCheck } = await import('../../commands/offline-check.js');
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const result = await offlineCheck({ settings, ...groupSelection(flags), catalogPath: flags.catalog, frozen: flags.frozen, lockfile: flags.lockfile });
    printResult(context.output, flags, result, () => {
      const lines = result.entries.map((e) => {
        const where = `${e.group}/${e.target}${e.kind === 'hub' ? `@${e.revision ?? 'main'}` : ''}`;
        if (e.skipped !== undefined) return `skip     ${where}: ${e.skipped}`;
        if (e.ok) return `ok       ${where} (${e.files.length} files${e.kind === 'hub' && !e.treeCache ? ', no tree cache: only present files checked' : ''})`;
        return `missing  ${where}: ${e.problems.join('; ')}`;
      });
      lines.push(result.ok ? `All ${result.checked} entries resolve offline.` : `${result.failed} of ${result.checked} entries would fail offline.`);
      return `${lines.join('\n')}\n`;
    });
    if (!result.ok) {
      context.output.stderr.write('hint: run `mlcache cache-models` with the same selection (or `mlcache verify --repair`), then check again.\n');
      context.setExitCode(EXIT.CACHE_DAMAGED);
    }
  });
}
