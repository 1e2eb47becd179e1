import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { addOptions, createReporter, outputOptions, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption } from './options.js';

interface ImportFlags {
  cacheDir?: string;
  skipSpaceCheck?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerImport(program: Command, context: CommandContext): void {
  const command = program
    .command('import')
    .description('Rebuild cached snapshots from an OCI image layout written by `mlcache export` (a .tar, a folder, or - for stdin).')
    .argument('<bundle>', 'bundle.tar, a layout folder, or - (read a tar from stdin)')
    .addOption(cacheDirOption())
    .option('--skip-space-check', 'import even when the free disk space looks too small');
  addOptions(command, outputOptions());
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
Every digest is verified (manifests, configs, layers, and each file's Hub blob name); the cache
comes out as \`mlcache download\` writes it. An interrupted import resumes: run it again.

Examples:
  $ mlcache import bundle.tar
  $ ssh connected-host mlcache export org/name - | mlcache import -
  $ mlcache import /media/usb/models/`,
  );
  command.action(async (bundle: string, flags: ImportFlags) => {
    const [{ importBundle }, { formatBytes, formatDuration }] = await Promise.all([import('../../commands/import.js'), import('../../util/bytes.js')]);
    if (bundle === '-' && process.stdin.isTTY) {
      throw usageError('Refusing to read a bundle from a terminal.', 'Pipe one in (`mlcache export … - | mlcache import -`) or give a file name.');
    }
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    try {
      const result = await importBundle({ settings, source: bundle, skipSpaceCheck: flags.skipSpaceCheck, signal: context.signal, onEvent: (e) => reporter.onEvent(e) });
      reporter.finish();
      if (reporter.result(result)) return;
      for (const s of result.snapshots) {
        reporter.info(`${s.repoId}@${s.revision} (${s.commit.slice(0, 12)}): ${s.files} files, ${s.filesImported} blobs imported (${formatBytes(s.bytesImported)}).`);
      }
      reporter.info(`${formatBytes(result.bytesReceived)} verified, ${result.blobsSkipped} blobs already cached, ${formatDuration(result.durationMs)}.`);
      for (const s of result.snapshots) context.output.stdout.write(`${s.snapshotDir}\n`);
    } finally {
      reporter.finish();
    }
  });
}
