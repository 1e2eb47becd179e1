/**
 * `mlcache run -- <command> [args...]`: the command runs with the ambient environment plus the
 * project's cache variables (which win), stdio passed through and signals forwarded. The
 * child's exit status is returned for src/cli/main.ts to exit with.
 */
import type { Settings } from '../config/settings.js';
import type { CacheVariables } from '../env/cache-variables.js';
import { runWithEnv } from '../env/run-with-env.js';
import { usageError } from '../errors.js';
import { projectEnvironment } from './env.js';

export interface RunOptions {
  settings: Settings;
  /** The command and its arguments. */
  command: readonly string[];
  /** @default found by walking up from settings.cwd */
  root?: string | undefined;
  offline?: boolean | undefined;
  /** Signals to forward. @default process */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'> | undefined;
  /** @default 'inherit' */
  stdio?: 'inherit' | 'pipe' | undefined;
}

export interface RunResult {
  root: string;
  variables: CacheVariables;
  /** The child's exit code; 128 + n when signal n killed it; 127 when it was not found. */
  exitCode: number;
  signal: string | undefined;
  spawnError: string | undefined;
}

export async function run(options: RunOptions): Promise<RunResult> {
  const [command, ...args] = options.command;
  if (command === undefined || command === '') {
    throw usageError('mlcache run needs a command after `--`.', 'For example: mlcache run -- python transcribe.py');
  }
  const { located, variables } = await projectEnvironment(options);
  const result = await runWithEnv({
    command,
    args,
    env: { ...options.settings.env, ...variables },
    cwd: options.settings.cwd,
    signals: options.signals,
    stdio: options.stdio,
  });
  return { root: located.root, variables, ...result };
}
