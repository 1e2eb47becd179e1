import { Option, type Command } from 'commander';
import { addOptions, createReporter, outputOptions, parsePositiveInt, parseSizeFlag, refuseEmptyValues, registryOptions, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheDirOption, endpointOption } from './options.js';

interface PushFlags {
  repoType: 'model' | 'dataset' | 'space';
  cacheDir?: string;
  endpoint?: string;
  registryToken?: string;
  insecureRegistry?: string[];
  jobs: number;
  chunkSize?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerPush(program: Command, context: CommandContext): void {
  const command = program
    .command('push')
    .description('Push a cached snapshot to an OCI registry as a CNCF ModelPack artifact and print its reference.')
    .argument('<repo>', 'repo id with an optional revision: org/name or org/name@rev (default main)')
    .argument('<target>', 'oci://host[:port]/name[:tag] (default tag: the revision; the full commit is always tagged too)')
    .addOption(new Option('--repo-type <type>', 'repo type').choices(['model', 'dataset', 'space']).default('model'))
    .addOption(cacheDirOption())
    .addOption(endpointOption())
    .addOption(new Option('--jobs <n>', 'layers uploaded at once').argParser(parsePositiveInt('--jobs')).default(4))
    .addOption(new Option('--chunk-size <size>', 'upload files this big or bigger in chunks of this size (resumable; for proxies with a body limit)').argParser(parseSizeFlag('--chunk-size')));
  addOptions(command, [...registryOptions(), ...outputOptions()]);
  refuseEmptyValues(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ mlcache push openai/whisper-tiny oci://registry.internal:5000/models/openai/whisper-tiny
  $ mlcache push org/name@v1.0 oci://ghcr.io/acme/models/name:v1.0`,
  );
  command.action(async (repo: string, target: string, flags: PushFlags) => {
    const [{ push }, { formatBytes, formatDuration }] = await Promise.all([import('../../commands/push.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const reporter = await createReporter(context.output, flags);
    try {
      await reporter.phase(`Reading ${repo} from ${settings.hubCache}…`);
      const result = await push({
        settings,
        repo,
        repoType: flags.repoType,
        target,
        jobs: flags.jobs,
        chunkSize: flags.chunkSize,
        registryToken: flags.registryToken,
        insecureRegistries: flags.insecureRegistry,
        ...reporter.hooks(context.signal),
      });
      reporter.finish();
      if (reporter.result(result)) return;
      reporter.info(
        `${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}): ${result.layers} layers, ${formatBytes(result.bytesUploaded)} uploaded, ` +
          `${result.layersMounted} mounted, ${result.layersPresent} already there, ${formatDuration(result.durationMs)}; tags ${result.tags.join(', ')}.`,
      );
      context.output.stdout.write(`${result.reference}@${result.manifestDigest}\n`);
    } finally {
      reporter.finish();
    }
  });
}
