/**
 * Run one command with the cache environment: stdio inherited, SIGINT/SIGTERM/SIGHUP forwarded
 * to the child, and the child's exit status returned (128 + n for a child killed by signal n,
 * as POSIX shells report it). What the pipeline's environment_manager.run_in_environment did.
 */
import os from 'node:os';
import { execa } from 'execa';
import type { Env } from '../config/settings.js';

export interface RunWithEnvOptions {
  command: string;
  args: readonly string[];
  /** The complete environment of the child (its PATH is searched for the command). */
  env: Env;
  cwd?: string;
  /** Where signals come from. @default process */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** @default 'inherit' */
  stdio?: 'inherit' | 'pipe';
}

export interface RunWithEnvResult {
  exitCode: number;
  /** The signal that killed the child, if any. */
  signal: string | undefined;
  /** The command could not be started (not found: exit code 127, not executable: 126). */
  spawnError: string | undefined;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function signalExitCode(signal: string): number {
  const n = (os.constants.signals as Record<string, number | undefined>)[signal];
  return 128 + (n ?? 0);
}

export async function runWithEnv(options: RunWithEnvOptions): Promise<RunWithEnvResult> {
  const child = execa(options.command, [...options.args], {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    stdio: options.stdio ?? 'inherit',
    reject: false,
    // The child decides how to end; mlcache only relays signals.
    forceKillAfterDelay: false,
  });
  const source = options.signals ?? process;
  const handlers = FORWARDED.map((name) => {
    const handler = () => {
      child.kill(name);
    };
    source.on(name, handler);
    return [name, handler] as const;
  });
  try {
    const result = await child;
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT') return { exitCode: 127, signal: undefined, spawnError: `command not found: ${options.command}` };
    if (code === 'EACCES') return { exitCode: 126, signal: undefined, spawnError: `permission denied: ${options.command}` };
    if (result.signal !== undefined) return { exitCode: signalExitCode(result.signal), signal: result.signal, spawnError: undefined };
    return { exitCode: result.exitCode ?? 1, signal: undefined, spawnError: undefined };
  } finally {
    for (const [name, handler] of handlers) source.off(name, handler);
  }
}
