/**
 * The one way hardware probes run external tools. Probes take an `Exec`, so tests put fake
 * executables first on PATH instead of mocking child_process.
 */
import { execa } from 'execa';

export interface ExecOptions {
  /** The complete environment of the child; its PATH is the one searched for `file`. */
  env: Readonly<Record<string, string | undefined>>;
  /** @default 10_000 */
  timeoutMs?: number;
}

export interface ExecResult {
  /** undefined when the process never ran or was killed. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The executable was not found on PATH (ENOENT), or is not executable (EACCES). */
  notFound: boolean;
  timedOut: boolean;
}

export type Exec = (file: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;

/** The default `Exec`, on execa: no shell, no stdin, bounded time, never throws for a failing tool. */
export const execTool: Exec = async (file, args, options) => {
  const result = await execa(file, [...args], {
    env: options.env,
    // Settings.env is the whole environment already; do not merge process.env back in.
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 10_000,
    stripFinalNewline: false,
  });
  const code = (result as { code?: string }).code;
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    notFound: code === 'ENOENT' || code === 'EACCES',
    timedOut: result.timedOut,
  };
};
