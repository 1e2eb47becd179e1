import { Option, type Command } from 'commander';
import { addOptions, collect, createReporter, networkOptions, outputOptions, refuseEmptyValues, settingsFrom, transferOptions } from '../context.js';
import type { CommandContext } from './index.js';
import { transferSettings, type TransferFlags } from './options.js';

interface DownloadFlags extends TransferFlags {
  revision?: string;
  include?: string[];
  exclude?: string[];
  repoType: 'model' | 'dataset' | 'space';
  cacheDir?: string;
  token?: string;
  endpoint?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  skipSpaceCheck?: boolean;
  localDir?: string;
}

export function registerDownload(program: Command, context: CommandContext): void {
  const command = program
    .command('download')
    .description('Download a repo (or some of its files) into the Hugging Face hub cache and print the snapshot path.')
    .argument('<repo_id>', 'repo id, e.g. openai/whisper-tiny')
    .argument('[files...]', 'only these files (or dir/ prefixes)')
    .option('--revision <rev>', 'branch, tag, refs/pr/N or commit', 'main')
    .option('--include <glob>', 'only files matching (repeatable; fnmatch, `*` crosses /)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable; wins over --include)', collect)
    .addOption(new Option('--repo-type <type>', 'repo type').choices(['model', 'dataset', 'space']).default('model'))
    .option('--dry-run', 'show what would be fetched and its size; write nothing')
    .option('--skip-space-check', 'download even when the free disk space looks too small')
    .option('--local-dir <dir>', 'also put real files in DIR (with huggingface_hub\'s .cache/huggingface metadata) and print DIR');
  addOptions(command, [...networkOptions(), ...transferOptions(), ...outputOptions()]);
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ mlcache download openai/whisper-tiny
  $ mlcache download Systran/faster-whisper-large-v3 --include '*.json' --include model.bin
  $ mlcache download gpt2 config.json --revision refs/pr/1
  $ MODEL_DIR=$(mlcache download org/name --quiet)
  $ mlcache download org/name --local-dir ./models/name   # plain files for vLLM, llama.cpp, ComfyUI`,
  );
  command.action(async (repoId: string, files: string[], flags: DownloadFlags) => {
    const [{ download }, { formatBytes, formatDuration }, { parseRepoId }, { cutValue }] = await Promise.all([
      import('../../commands/download.js'),
      import('../../util/bytes.js'),
      import('../../hub/repo-id.js'),
      import('../../util/cut-value.js'),
    ]);
    parseRepoId(repoId, flags.repoType); // a bad id fails before any output
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    try {
      const where = settings.offline ? 'in the cache (HF_HUB_OFFLINE)' : `on ${settings.endpoint}`;
      await reporter.phase(`Resolving ${cutValue(repoId)}@${cutValue(flags.revision ?? 'main')} ${where}…`);
      const result = await download({
        settings,
        repoId,
        files,
        revision: flags.revision,
        repoType: flags.repoType,
        include: flags.include,
        exclude: flags.exclude,
        token: flags.token,
        dryRun: flags.dryRun,
        skipSpaceCheck: flags.skipSpaceCheck,
        localDir: flags.localDir,
        ...transferSettings(flags),
        ...reporter.hooks(context.signal),
      });
      reporter.finish();
      const { plan: _plan, ...summary } = result;
      if (reporter.result(summary)) return;
      if (result.dryRun) {
        for (const f of result.files) {
          context.output.stdout.write(`${f.cached ? 'cached ' : 'fetch  '} ${formatBytes(f.size).padStart(9)}  ${f.path}\n`);
        }
        context.output.stdout.write(
          `${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}): ${result.files.length} files, ` +
            `${formatBytes(result.bytesTotal)} in total, ${formatBytes(result.bytesNeeded)} to download.\n`,
        );
        const sp = result.space;
        context.output.stdout.write(
          `Disk: ${formatBytes(sp.bytesRequired)} needed with margin${sp.bytesResumable > 0 ? ` (${formatBytes(sp.bytesResumable)} already in resumable partials)` : ''}, ` +
            `${sp.bytesFree === undefined ? 'free space unknown' : `${formatBytes(sp.bytesFree)} free`} on ${sp.path}${sp.fits ? '' : ' — NOT ENOUGH'}.\n`,
        );
        if (result.localDir) context.output.stdout.write(`Local dir ${result.localDir.path}: ${result.localDir.upToDate} of ${result.files.length} files already up to date.\n`);
        return;
      }
      reporter.info(
        `${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}): ${result.files.length} files, ` +
          `${formatBytes(result.bytesFetched)} fetched, ${formatBytes(result.bytesCached)} already cached, ${formatDuration(result.durationMs)}.`,
      );
      if (result.localDir) {
        const { placed, upToDate } = result.localDir;
        const how = (['reflink', 'copy'] as const).filter((k) => placed[k] > 0).map((k) => `${placed[k]} by ${k}`);
        reporter.info(`${result.localDir.path}: ${placed.reflink + placed.copy} files written${how.length > 0 ? ` (${how.join(', ')})` : ''}, ${upToDate} already up to date.`);
      }
      context.output.stdout.write(`${result.localDir?.path ?? result.snapshotPath}\n`);
    } finally {
      reporter.finish();
    }
  });
}
