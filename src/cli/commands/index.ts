/**
 * Every command's commander wiring. Registration modules only declare options; each action
 * lazy-imports the library function it calls, so start-up loads none of the heavy modules.
 */
import type { Command } from 'commander';
import { registerCacheModels } from './cache-models.js';
import { registerDownload } from './download.js';

export interface CommandContext {
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

export type RegisterCommand = (program: Command, context: CommandContext) => void;

const registrations: RegisterCommand[] = [registerDownload, registerCacheModels];

export function registerCommands(program: Command, context: CommandContext): void {
  for (const register of registrations) register(program, context);
}
