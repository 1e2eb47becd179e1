import { Option, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { addOptions, collect, createReporter, networkOptions, outputOptions, parsePositiveInt, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { catalogOption, lockfileOption, torchHomeOption } from './options.js';

interface VerifyFlags {
  group?: string[];
  all?: boolean;
  repair?: boolean;
  repoType: 'model' | 'dataset' | 'space';
  jobs: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  cacheDir?: string;
  torchHome?: string;
  token?: string;
  endpoint?: string;
  catalog?: string;
  frozen?: boolean;
  lockfile?: string;
}

export function registerVerify(program: Command, context: CommandContext): void {
  const command = program
    .command('verify')
    .description('Re-hash the cache and report damage; --repair re-fetches only what is bad.')
    .argument('[repos...]', 'only these repos (default: every cached repo)')
    .option('--group <name>', 'also check a catalog group for completeness and its URL artifacts (repeatable)', collect)
    .option('--all', 'every cached repo and every catalog group')
    .option('--repair', 'fix what can be fixed (downloads through the engine)')
    .addOption(new Option('--repo-type <type>', 'type of the named repos').choices(['model', 'dataset', 'space']).default('model'))
    .addOption(new Option('--jobs <n>', 'files hashed at once').argParser(parsePositiveInt('--jobs')).default(2))
    .addOption(torchHomeOption())
    .addOption(catalogOption())
    .option('--frozen', 'also check every entry of mlcache.lock at its locked commit (files and URL artifacts)')
    .addOption(lockfileOption());
  addOptions(command, [...networkOptions(), ...outputOptions()]);
  refuseEmptyValues(command);
  command.action(async (repos: string[], flags: VerifyFlags) => {
    const [{ verify }, { formatBytes }] = await Promise.all([import('../../commands/verify.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    let result;
    try {
      result = await verify({
        settings,
        repos,
        repoType: flags.repoType,
        groups: flags.group,
        all: flags.all,
        repair: flags.repair,
        catalogPath: flags.catalog,
        frozen: flags.frozen,
        lockfile: flags.lockfile,
        concurrency: flags.jobs,
        token: flags.token,
        signal: context.signal,
        onEvent: (e) => reporter.onEvent(e),
      });
    } finally {
      reporter.finish();
    }
    if (reporter.mode === 'json') {
      for (const f of result.findings) reporter.json({ type: 'finding', ...f });
      const { findings: _f, ...summary } = result;
      reporter.json({ type: 'result', ...summary });
    } else {
      const lines: string[] = [];
      for (const f of result.findings) {
        if (f.severity === 'info' && flags.verbose !== true) continue;
        lines.push(`${f.severity.padEnd(7)} ${f.kind}: ${f.message}`);
        if (f.repaired !== undefined) lines.push(`        repair: ${f.repaired}${f.repairNote ? ` (${f.repairNote})` : ''}`);
        else if (f.severity === 'damage') lines.push(`        --repair: ${f.repair}`);
      }
      const info = result.counts.info;
      lines.push(
        `${result.filesHashed} files (${formatBytes(result.bytesHashed)}) hashed in ${result.repos.length} repo(s): ` +
          `${result.counts.damage} damaged, ${result.counts.warning} warning(s)${info > 0 ? `, ${info} note(s) (partials, orphan blobs${flags.verbose ? '' : '; -v lists them, `mlcache prune` removes them'})` : ''}.`,
      );
      if (result.repair) lines.push(`repair: ${result.repair.fixed} fixed, ${result.repair.removed} removed, ${result.repair.failed} failed, ${formatBytes(result.repair.bytesFetched)} downloaded.`);
      lines.push(result.intact ? 'The cache is intact.' : 'The cache is DAMAGED.');
      context.output.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!result.intact) {
      if (reporter.mode !== 'json') context.output.stderr.write(`hint: ${flags.repair ? 'fix what failed (see above), then run verify again.' : 'run `mlcache verify --repair` to fix it.'}\n`);
      context.setExitCode(EXIT.CACHE_DAMAGED);
    }
  });
}
