import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { addOptions, networkOptions, outputOptions, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';

interface DoctorFlags {
  json?: boolean;
  cacheDir?: string;
  torchHome?: string;
  token?: string;
  endpoint?: string;
}

export function registerDoctor(program: Command, context: CommandContext): void {
  const command = program
    .command('doctor')
    .description('Check Node, cache directories, symlinks, free space, the endpoint, the token, proxies and conflicting variables.')
    .option('--torch-home <dir>', 'TORCH_HOME to check');
  addOptions(command, [...networkOptions(), ...outputOptions().filter((o) => o.long === '--json')]);
  refuseEmptyValues(command);
  command.action(async (flags: DoctorFlags) => {
    const { doctor } = await import('../../commands/doctor.js');
    const settings = await settingsFrom(context.output, flags);
    const result = await doctor({ settings, token: flags.token });
    if (flags.json) {
      context.output.stdout.write(`${JSON.stringify({ type: 'result', ok: result.ok, checks: result.checks })}\n`);
    } else {
      const lines = result.checks.map((c) => `${c.status.padEnd(4)}  ${c.message}${c.fix !== undefined && c.status !== 'ok' ? `\n      fix: ${c.fix}` : ''}`);
      context.output.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!result.ok) context.setExitCode(EXIT.FAILED);
  });
}
