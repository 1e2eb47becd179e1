import { Option, type Command } from 'commander';
import { usageError } from '../../errors.js';
import { refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';

interface EnvFlags {
  format: 'sh' | 'fish' | 'powershell' | 'dotenv' | 'json' | 'github' | 'compose';
  offline?: boolean;
  root?: string;
  service?: string;
}

export function registerEnv(program: Command, context: CommandContext): void {
  const command = program
    .command('env')
    .description("Print the project's cache environment (TORCH_HOME, HF_HOME, HF_HUB_CACHE, ...) with absolute paths.")
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['sh', 'fish', 'powershell', 'dotenv', 'json', 'github', 'compose'])
        .default('sh'),
    )
    .option('--offline', 'also set HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1')
    .option('--root <dir>', 'project root (default: found by walking up to config/hardware_cache.json)')
    .option('--service <name>', 'with --format compose: the service in your compose.yaml to extend (default: app)');
  command.addHelpText(
    'after',
    `
Examples:
  $ eval "$(mlcache env)"                       # bash / zsh
  $ mlcache env --format fish | source          # fish
  $ mlcache env --format powershell | Invoke-Expression
  $ mlcache env --format dotenv > .env.cache    # docker compose env_file
  $ mlcache env --format github --offline       # GitHub Actions: appends to $GITHUB_ENV
  $ mlcache env --format compose --service pipeline > mlcache.compose.yaml
  $ docker compose -f compose.yaml -f mlcache.compose.yaml up   # the caches mounted into "pipeline"`,
  );
  refuseEmptyValues(command);
  command.action(async (flags: EnvFlags) => {
    const { env } = await import('../../commands/env.js');
    const settings = await settingsFrom(context.output, {}, { cacheNote: false });
    if (flags.service !== undefined && flags.format !== 'compose') throw usageError('--service only applies to --format compose.', 'Add --format compose, or leave --service out.');
    const result = await env({ settings, root: flags.root, format: flags.format, offline: flags.offline, service: flags.service });
    if (result.format === 'github') {
      context.output.stderr.write(`Appended ${Object.keys(result.variables).length} variables to ${result.githubEnvFile ?? '$GITHUB_ENV'}.\n`);
    } else {
      context.output.stdout.write(result.output);
    }
  });
}
