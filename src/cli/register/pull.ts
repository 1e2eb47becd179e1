import { Option, type Command } from 'commander';
import { addOptions, createReporter, outputOptions, refuseEmptyValues, registryOptions, settingsFrom, transferOptions } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption, transferSettings, type TransferFlags } from './options.js';

interface PullFlags extends TransferFlags {
  repo?: string;
  repoType?: 'model' | 'dataset' | 'space';
  revision?: string;
  cacheDir?: string;
  registryToken?: string;
  insecureRegistry?: string[];
  dryRun?: boolean;
  skipSpaceCheck?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerPull(program: Command, context: CommandContext): void {
  const command = program
    .command('pull')
    .description('Pull a model artifact from an OCI registry into the Hugging Face hub cache and print the snapshot path.')
    .argument('<reference>', 'oci://host[:port]/name:tag or oci://host/name@sha256:…')
    .option('--repo <repo_id>', 'cache it under this repo id (default: what the artifact says, else its name)')
    .addOption(new Option('--repo-type <type>', 'repo type (default: what the artifact says, else model)').choices(['model', 'dataset', 'space']))
    .option('--revision <name>', 'write refs/<name> (default: the ref the artifact says, else the tag)')
    .addOption(cacheDirOption())
    .option('--dry-run', 'show what would be fetched and its size; write nothing')
    .option('--skip-space-check', 'pull even when the free disk space looks too small');
  addOptions(command, [...registryOptions(), ...transferOptions(), ...outputOptions()]);
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ mlcache pull oci://registry.internal:5000/models/openai/whisper-tiny:main
  $ MODEL_DIR=$(mlcache pull oci://ghcr.io/acme/models/bert:v1 --quiet)`,
  );
  command.action(async (reference: string, flags: PullFlags) => {
    const [{ pull }, { formatBytes, formatDuration }] = await Promise.all([import('../../commands/pull.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    try {
      await reporter.phase(`Reading ${reference}…`);
      const result = await pull({
        settings,
        reference,
        repoId: flags.repo,
        repoType: flags.repoType,
        revision: flags.revision,
        registryToken: flags.registryToken,
        insecureRegistries: flags.insecureRegistry,
        dryRun: flags.dryRun,
        skipSpaceCheck: flags.skipSpaceCheck,
        ...transferSettings(flags),
        ...reporter.hooks(context.signal),
      });
      reporter.finish();
      if (reporter.result(result)) return;
      const head = `${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}) from ${result.reference}`;
      if (result.dryRun) {
        for (const f of result.files) context.output.stdout.write(`${f.cached ? 'cached ' : 'fetch  '} ${formatBytes(f.size).padStart(9)}  ${f.path}\n`);
        if (result.archives > 0) context.output.stdout.write(`and ${result.archives} tar layer(s), unpacked on pull\n`);
        context.output.stdout.write(`${head}: ${result.files.length} files, ${formatBytes(result.bytesTotal)} in total, ${formatBytes(result.bytesNeeded)} to fetch.\n`);
        return;
      }
      reporter.info(`${head}: ${result.files.length} files, ${formatBytes(result.bytesFetched)} fetched, ${formatDuration(result.durationMs)}.`);
      context.output.stdout.write(`${result.snapshotPath}\n`);
    } finally {
      reporter.finish();
    }
  });
}
