/**
 * A real full filesystem for a test: a small tmpfs mounted in a private user + mount namespace
 * (`unshare -Urm`), so nothing is mounted for the rest of the machine and the mount vanishes when
 * the script ends. The whole scenario is one bash script run inside the namespace (the mount only
 * exists there); it leaves its observations as files under `out`, a normal temp dir the test reads
 * afterwards. Loopback networking is the host's (only the mount namespace is new), so the Hub
 * emulator the test started on 127.0.0.1 is reachable from inside.
 *
 * Functions available to the script:
 *   mlcache ARGS…        the built CLI (bin/mlcache.js) under the Node running the tests
 *   run NAME CMD…        run CMD, keeping $OUT/NAME.{stdout,stderr,exit}; never stops the script
 *   snap NAME            copy the tmpfs as it is now to $OUT/NAME/ (symlinks and sparse files kept),
 *                        and list every entry with its size and allocated bytes in $OUT/NAME.list
 *   marker NAME          a request to $MARKER_URL/NAME, so the test can split the emulator's log
 *   fill [NAME]          write zeros to $MNT/NAME (default filler) until the disk is full
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { BIN } from './cli.js';

export interface TmpfsRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Where the script's observations are ($OUT). Removed by the caller through `cleanup`. */
  out: string;
}

const PRELUDE = String.raw`
set -u
mlcache() { "$NODE" "$BIN" "$@"; }
run() { local name=$1; shift; "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"; echo $? >"$OUT/$name.exit"; }
snap() { mkdir -p "$OUT/$1"; cp -a "$MNT/." "$OUT/$1/"; (cd "$MNT" && find . -mindepth 1 -printf '%P\t%y\t%s\t%b\n' | sort) >"$OUT/$1.list"; }
marker() { "$NODE" -e 'setTimeout(() => fetch(process.argv[1]).then(() => {}, () => {}), 300)' "$MARKER_URL/$1"; }
fill() { local n=filler; [ $# -gt 0 ] && n=$1; head -c 1G /dev/zero >"$MNT/$n" 2>/dev/null || true; }
`;

/** Throws a clear error when this machine cannot make a private mount namespace (no skip: CI must run this). */
export function assertUnshareWorks(): void {
  try {
    execFileSync('unshare', ['-Urm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d" && rmdir "$d"'], { stdio: 'pipe' });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(
      `These tests need \`unshare -Urm\` (an unprivileged user + mount namespace) to mount a small tmpfs, and it failed: ${detail}. ` +
        'Enable user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0) or run as root.',
    );
  }
}

/**
 * Run `script` in a private namespace with a tmpfs of `size` (mount -o syntax: "8m") at $MNT.
 * `env` is passed through (nothing else is inherited but PATH); $MNT, $OUT, $NODE, $BIN are set.
 */
export async function runInTmpfs(options: {
  size: string;
  /** Extra mount options, e.g. "nr_inodes=64". */
  mountOptions?: string;
  script: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<TmpfsRun> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'mlcache-tmpfs-'));
  const mnt = path.join(base, 'mnt');
  const out = path.join(base, 'out');
  const mountOptions = [`size=${options.size}`, ...(options.mountOptions ? [options.mountOptions] : [])].join(',');
  const script = `${PRELUDE}\nmkdir -p "$MNT" "$OUT"\nmount -t tmpfs -o '${mountOptions}' tmpfs "$MNT" || exit 99\n${options.script}\n`;
  const result = await execa('unshare', ['-Urm', 'bash', '-c', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MNT: mnt, OUT: out, NODE: process.execPath, BIN, NO_COLOR: '1', ...options.env },
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 20_000,
  });
  if (result.exitCode === 99) throw new Error(`mounting the tmpfs failed: ${result.stderr}`);
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, out };
}

/** Remove what runInTmpfs left (the empty mount point and the observations). */
export async function cleanupTmpfsRun(run: TmpfsRun): Promise<void> {
  await rm(path.dirname(run.out), { recursive: true, force: true });
}
