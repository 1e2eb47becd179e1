/**
 * `npm run demo`: mlcache's main job end to end, offline. Starts the Hub emulator with the demo
 * repo, runs `mlcache download mlcache-demo/tiny-model` against it into a cache directory
 * (default ./.demo-cache, or --cache-dir), prints where the files went, and stops the emulator.
 */
import { spawn } from 'node:child_process';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSettings, type Env } from '../config/settings.js';
import { createHubEmulator, DEMO_REPO_ID, demoRepos } from '../emulator/index.js';
import { formatBytes } from '../util/bytes.js';

/** The package root, from dist/cli/demo.js (or src/cli/demo.ts). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `models--org--name` (huggingface_hub file_download.py::repo_folder_name). */
function repoFolder(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--');
}

/** A `tree`-like rendering of a directory, with symlink targets and file sizes. */
export async function renderTree(root: string, maxEntries = 200): Promise<string> {
  const lines = [root];
  let count = 0;
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const [i, entry] of entries.entries()) {
      if (++count > maxEntries) {
        if (count === maxEntries + 1) lines.push(`${prefix}…`);
        return;
      }
      const last = i === entries.length - 1;
      const full = path.join(dir, entry.name);
      const branch = `${prefix}${last ? '└── ' : '├── '}`;
      if (entry.isSymbolicLink()) {
        lines.push(`${branch}${entry.name} -> ${await readlink(full)}`);
      } else if (entry.isDirectory()) {
        lines.push(`${branch}${entry.name}/`);
        await walk(full, `${prefix}${last ? '    ' : '│   '}`);
      } else {
        lines.push(`${branch}${entry.name}  (${formatBytes((await lstat(full)).size)})`);
      }
    }
  }
  await walk(root, '');
  return lines.join('\n');
}

function runNode(args: string[], env: Env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'cache-dir': { type: 'string' } }, strict: true });
  const settings = loadSettings();
  const cacheDir = path.resolve(settings.cwd, values['cache-dir'] ?? '.demo-cache');
  // Accept any token: a user's real HF_TOKEN in the environment must not make the demo fail.
  const emulator = await createHubEmulator({ repos: demoRepos(), acceptAnyToken: true });
  try {
    console.log(`Hub emulator: ${emulator.url} (CDN ${emulator.cdnUrl})`);
    console.log(`Downloading ${DEMO_REPO_ID} into ${cacheDir}\n`);
    // The user's offline switches would make the download refuse to touch the network.
    const env: Record<string, string | undefined> = { ...settings.env, HF_ENDPOINT: emulator.url };
    delete env.HF_HUB_OFFLINE;
    delete env.TRANSFORMERS_OFFLINE;
    const bin = path.join(PACKAGE_ROOT, 'bin', 'mlcache.js');
    const code = await runNode([bin, 'download', DEMO_REPO_ID, '--endpoint', emulator.url, '--cache-dir', cacheDir], env);
    if (code !== 0) {
      console.error(`\nmlcache download exited with code ${code}.`);
      return code;
    }
    const commit = emulator.commitOf(DEMO_REPO_ID, 'main');
    const snapshot = path.join(cacheDir, repoFolder(DEMO_REPO_ID), 'snapshots', commit);
    console.log(`\nSnapshot: ${snapshot}`);
    console.log(`Served ${formatBytes(emulator.stats.bytesServed)} of file content in ${emulator.stats.requests.length} requests.\n`);
    console.log(await renderTree(cacheDir));
    console.log(`\nUse it offline:\n  HF_HUB_CACHE=${cacheDir} HF_HUB_OFFLINE=1 python -c "from huggingface_hub import snapshot_download; print(snapshot_download('${DEMO_REPO_ID}'))"`);
    return 0;
  } finally {
    await emulator.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDemo(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
