import type { Command } from 'commander';
import { refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';

interface RunFlags {
  offline?: boolean;
  root?: string;
}

export function registerRun(program: Command, context: CommandContext): void {
  const command = program
    .command('run')
    .description("Run a command with the project's cache environment; exits with the command's exit code.")
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--offline', 'also set HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1')
    .option('--root <dir>', 'project root (default: found by walking up to config/hardware_cache.json)');
  command.addHelpText(
    'after',
    `
Examples:
  $ mlcache run -- python transcribe.py input.wav
  $ mlcache run --offline -- ./run-pipeline.sh -j job-42`,
  );
  refuseEmptyValues(command);
  command.action(async (commandLine: string[], flags: RunFlags) => {
    const { run } = await import('../../commands/run.js');
    const settings = await settingsFrom(context.output, {}, { cacheNote: false });
    const result = await run({ settings, command: commandLine, root: flags.root, offline: flags.offline });
    if (result.spawnError !== undefined) context.output.stderr.write(`mlcache run: ${result.spawnError}\n`);
    context.setExitCode(result.exitCode);
  });
}
