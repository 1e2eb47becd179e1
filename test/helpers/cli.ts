/**
 * The built CLI as a user runs it (bin/mlcache.js → dist/, so `npm run build` first; `npm test`
 * does). Always under process.execPath, never a `node` found on PATH: the suite also runs on
 * Node 22 and 24 (scripts/test-node-matrix.sh) and must test the binary with the Node running it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO_ROOT, 'bin', 'mlcache.js');

const execFileAsync = promisify(execFile);

/** Build dist/ when a CLI test file runs on its own, before any `npm run build`. */
export function ensureBuilt(): void {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT });
}

/**
 * `mlcache <args>` with exactly `env` (nothing inherited), through execa: never rejects, the
 * result's exitCode says how it went, and the promise can be killed.
 */
export function runCli(args: string[], options: { env: Record<string, string>; cwd?: string }) {
  return execa(process.execPath, [BIN, ...args], { env: options.env, extendEnv: false, reject: false, cwd: options.cwd });
}

/** `mlcache <args>` through execFile: the exit code and the output exactly as written (nothing stripped). */
export async function execCli(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `mlcache bootstrap --root <root> --skip-cache` with HOME=<home>: a project `env` and `run` can find. Rejects if it fails. */
export async function bootstrapProject(root: string, home: string): Promise<void> {
  await execFileAsync(process.execPath, [BIN, 'bootstrap', '--root', root, '--skip-cache'], { env: { PATH: process.env.PATH, HOME: home } });
}

/** The variables `mlcache env` / `mlcache run` set for a project bootstrapped at `root` (the default cache block). */
export function defaultCacheVariables(root: string): Record<string, string> {
  return {
    TORCH_HOME: `${root}/.cache/torch`,
    HF_HOME: `${root}/.cache/huggingface`,
    HF_HUB_CACHE: `${root}/.cache/huggingface/hub`,
    TRANSFORMERS_CACHE: `${root}/.cache/huggingface/hub`,
    MLX_CACHE_DIR: `${root}/.cache/mlx`,
    PYANNOTE_CACHE: `${root}/.cache/torch/pyannote`,
  };
}
