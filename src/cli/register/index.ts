/**
 * Every command's commander wiring. Registration modules only declare options; each action
 * lazy-imports the library function it calls, so start-up loads none of the heavy modules.
 */
import type { Command } from 'commander';
import type { Output } from '../output.js';
import { registerBootstrap } from './bootstrap.js';
import { registerCacheModels } from './cache-models.js';
import { registerDownload } from './download.js';
import { registerEnv } from './env.js';
import { registerRun } from './run.js';
import { registerDoctor } from './doctor.js';
import { registerOfflineCheck } from './offline-check.js';
import { registerPrune } from './prune.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerRm } from './rm.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';
import { registerCacheKey, registerLock, registerOutdated } from './lock.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';

export interface CommandContext {
  /** The one output door: every line a command prints goes through it (redacted). */
  output: Output;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** For commands whose result is an exit code (`run`: the child's); main.ts exits with it. */
  setExitCode(code: number): void;
}

export type RegisterCommand = (program: Command, context: CommandContext) => void;

const registrations: RegisterCommand[] = [registerDownload, registerCacheModels, registerBootstrap, registerEnv, registerRun, registerPush, registerPull, registerExport, registerImport, registerStatus, registerVerify, registerOfflineCheck, registerPrune, registerRm, registerDoctor, registerLock, registerCacheKey, registerOutdated];

export function registerCommands(program: Command, context: CommandContext): void {
  for (const register of registrations) register(program, context);
}
