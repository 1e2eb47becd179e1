import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { addOptions, networkOptions, refuseEmptyValues, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { jsonOption, printResult, torchHomeOption } from './options.js';

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
    .addOption(torchHomeOption());
  addOptions(command, [...networkOptions(), jsonOption()]);
  refuseEmptyValues(command);
  command.action(async (flags: DoctorFlags) => {
    const { doctor } = await import('../../commands/doctor.js');
    const settings = await settingsFrom(context.output, flags);
    const result = await doctor({ settings, token: flags.token });
    printResult(context.output, flags, { ok: result.ok, checks: result.checks }, () => {
      const lines = result.checks.map((c) => `${c.status.padEnd(4)}  ${c.message}${c.fix !== undefined && c.status !== 'ok' ? `\n      fix: ${c.fix}` : ''}`);
      return `${lines.join('\n')}\n`;
    });
    if (!result.ok) context.setExitCode(EXIT.FAILED);
  });
}
