import { Option, type Command } from 'commander';
import { usageError } from '../../errors.js';
import { addOptions, collect, createReporter, outputOptions, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption, catalogOption } from './options.js';

interface ExportFlags {
  group?: string[];
  catalog?: string;
  repoType: 'model' | 'dataset' | 'space';
  folder?: boolean;
  cacheDir?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerExport(program: Command, context: CommandContext): void {
  const command = program
    .command('export')
    .description('Write cached snapshots as an OCI image layout (a .tar, a folder, or - for stdout) for an air-gapped machine.')
    .argument('<args...>', 'repos (org/name[@revision]) then the target: bundle.tar, a folder, or - (stdout)')
    .option('--group <name>', 'the Hub entries of a catalog group (repeatable)', collect)
    .addOption(catalogOption())
    .addOption(new Option('--repo-type <type>', 'repo type of the repos named').choices(['model', 'dataset', 'space']).default('model'))
    .option('--folder', 'write a layout folder even when the target does not exist yet')
    .addOption(cacheDirOption());
  addOptions(command, outputOptions());
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
The bundle holds one CNCF ModelPack manifest per snapshot, named <repo>:<revision> in index.json
(datasets/<repo>:<revision> for datasets), and each blob once. With -, only the tar goes to stdout.

Examples:
  $ mlcache export openai/whisper-tiny bundle.tar
  $ mlcache export --group whisperx /media/usb/models/
  $ mlcache export org/name@v1 - | ssh airgapped mlcache import -
  $ skopeo copy oci-archive:bundle.tar:openai/whisper-tiny:main docker://registry.local/openai/whisper-tiny:main`,
  );
  command.action(async (args: string[], flags: ExportFlags) => {
    const [{ exportBundle }, { formatBytes, formatDuration }, { parseRepoSpec }] = await Promise.all([
      import('../../commands/export.js'),
      import('../../util/bytes.js'),
      import('../../hub/repo-id.js'),
    ]);
    const target = args[args.length - 1]!;
    const specs = args.slice(0, -1);
    if (specs.length === 0 && (flags.group?.length ?? 0) === 0) {
      throw usageError('Name the repos to export (org/name[@revision]) or a --group, then the target.', 'For example: mlcache export openai/whisper-tiny bundle.tar');
    }
    const repos = specs.map((spec) => {
      const parsed = parseRepoSpec(spec, flags.repoType);
      return { repoId: parsed.repo.id, repoType: parsed.repo.type, revision: parsed.revision };
    });
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const toStdout = target === '-';
    if (toStdout && context.output.stdout.isTTY) {
      throw usageError('Refusing to write a tar to a terminal.', 'Redirect it (`> bundle.tar`), pipe it (`| ssh host mlcache import -`), or give a file name.');
    }
    const reporter = await createReporter(context.output, flags, toStdout ? { jsonTo: 'stderr' } : {});
    try {
      const result = await exportBundle({
        settings,
        repos,
        groups: flags.group,
        catalogPath: flags.catalog,
        target,
        folder: flags.folder,
        signal: context.signal,
        onEvent: (e) => reporter.onEvent(e),
      });
      reporter.finish();
      if (reporter.result(result)) return;
      for (const s of result.snapshots) reporter.info(`${s.refName} (${s.commit.slice(0, 12)}): ${s.files} files, ${formatBytes(s.bytes)}`);
      const kept = result.blobsKept > 0 ? ` (${result.blobsKept} already in the folder)` : '';
      reporter.info(`${result.snapshots.length} snapshot(s), ${result.blobs} blobs${kept}, ${formatBytes(result.bytesWritten)} written in ${formatDuration(result.durationMs)}.`);
      if (!toStdout) context.output.stdout.write(`${result.target}\n`);
    } finally {
      reporter.finish();
    }
  });
}
