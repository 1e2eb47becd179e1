/**
 * `npm run demo`: mlcache's main job end to end, offline, in one command. Starts the Hub
 * emulator with the demo repo, then in a temporary project (or --dir DIR):
 *   1. `mlcache bootstrap --skip-cache` — the .cache tree and config/hardware_cache.json;
 *   2. `mlcache cache-models --group demo` — a small demo catalog (config/models.json: the demo
 *      repo, and a URL artifact behind a redirect) into the project's own cache, with progress;
 *   3. `mlcache status --group demo`;
 * then stops the emulator and, with nothing listening, proves the project runs offline:
 *   4. `mlcache offline-check --group demo` (HF_HUB_OFFLINE=1);
 *   5. `mlcache run --offline -- node -e <list what it sees>`.
 * Each step prints what it proved. No network is used.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSettings, type Env } from '../../config/settings.js';
import { createHubEmulator, DEMO_REPO_ID, demoRepos } from '../../emulator/index.js';
import { formatBytes } from '../../util/bytes.js';
/** The package root, from dist/cli/bin/demo.js (or src/cli/bin/demo.ts). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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

function runNode(args: string[], env: Env, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env, cwd });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** What `mlcache run` shows the pipeline: the variables it set and the files it can open. */
const LIST_SCRIPT = `
const fs = require('node:fs'), path = require('node:path');
const hub = process.env.HF_HUB_CACHE;
console.log('  HF_HUB_CACHE=' + hub);
console.log('  HF_HUB_OFFLINE=' + process.env.HF_HUB_OFFLINE + '  TORCH_HOME=' + process.env.TORCH_HOME);
const repo = path.join(hub, 'models--mlcache-demo--tiny-model');
const commit = fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8');
const walk = (d, p) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name), p + e.name + '/') : [p + e.name]);
for (const f of walk(path.join(repo, 'snapshots', commit), '').sort()) console.log('  ' + f + '  ' + fs.statSync(path.join(repo, 'snapshots', commit, f)).size + ' bytes');
const ckpt = path.join(process.env.TORCH_HOME, 'hub', 'checkpoints', 'demo-model.onnx');
console.log('  ' + ckpt + '  ' + fs.statSync(ckpt).size + ' bytes');
`;

/** The variables that would send the demo's project to another cache, and the offline switches. */
const AMBIENT = ['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'TORCH_HOME', 'XDG_CACHE_HOME', 'MLCACHE_CATALOG', 'MLCACHE_MODELS', 'PRELOAD_MODELS', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'MLCACHE_REGISTRY'];

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' } }, strict: true });
  const settings = loadSettings({ project: false });
  const project = values.dir !== undefined ? path.resolve(settings.cwd, values.dir) : await mkdtemp(path.join(os.tmpdir(), 'mlcache-demo-'));
  await mkdir(path.join(project, 'config'), { recursive: true });
  const bin = path.join(PACKAGE_ROOT, 'bin', 'mlcache.js');
  const env: Record<string, string | undefined> = { ...settings.env };
  for (const name of AMBIENT) delete env[name];
  // Accept any token: a user's real HF_TOKEN in the environment must not make the demo fail.
  const emulator = await createHubEmulator({ repos: demoRepos(), acceptAnyToken: true });
  let running = true;
  const step = (n: number, text: string) => console.log(`\n━━ ${n}. ${text}`);
  const proved = (text: string) => console.log(`✓ ${text}`);
  const mlcache = (args: string[], extra: Record<string, string> = {}) => runNode([bin, ...args], { ...env, ...extra }, project);
  try {
    console.log(`Hub emulator: ${emulator.url} (CDN ${emulator.cdnUrl}); project: ${project}`);
    // A demo catalog in place of the shipped one: the demo repo, and a URL artifact whose URL
    // redirects to the CDN (as GitHub release assets and HF resolve URLs do).
    const onnx = await emulator.contentOf(DEMO_REPO_ID, 'onnx/model.onnx');
    const catalog = {
      version: 1,
      groups: {
        demo: {
          description: 'The mlcache demo: a tiny model and a torch-hub style checkpoint.',
          entries: [
            { repo: DEMO_REPO_ID, purpose: 'a tiny model (safetensors, ONNX, tokenizer)' },
            {
              name: 'demo-checkpoint',
              url: `${emulator.url}/${DEMO_REPO_ID}/resolve/main/onnx/model.onnx`,
              sha256: createHash('sha256').update(onnx).digest('hex'),
              size: onnx.length,
              destination: 'hub/checkpoints/demo-model.onnx',
              purpose: 'a URL artifact behind a redirect',
            },
          ],
        },
      },
    };
    await writeFile(path.join(project, 'config', 'models.json'), `${JSON.stringify(catalog, null, 2)}\n`);
    const online = { HF_ENDPOINT: emulator.url };

    step(1, 'mlcache bootstrap --skip-cache');
    let code = await mlcache(['bootstrap', '--skip-cache'], online);
    if (code !== 0) return failed('bootstrap', code);
    proved(`the project has its own caches under ${path.join(project, '.cache')} and config/hardware_cache.json`);

    step(2, 'mlcache cache-models --group demo --yes   (no `mlcache env` needed)');
    code = await mlcache(['cache-models', '--group', 'demo', '--yes'], online);
    if (code !== 0) return failed('cache-models', code);
    proved(`the repo and the redirected checkpoint are in the project's cache, verified (${formatBytes(emulator.stats.bytesServed)} served)`);

    step(3, 'mlcache status --group demo');
    code = await mlcache(['status', '--group', 'demo'], online);
    if (code !== 0) return failed('status', code);
    proved('status reads the cache only: every entry of the group is complete');

    await emulator.close();
    running = false;
    console.log('\nThe Hub emulator is stopped: from here on nothing answers on the network.');

    step(4, 'HF_HUB_OFFLINE=1 mlcache offline-check --group demo');
    code = await mlcache(['offline-check', '--group', 'demo'], { HF_HUB_OFFLINE: '1', HF_ENDPOINT: emulator.url });
    if (code !== 0) return failed('offline-check', code);
    proved('every file resolves the way huggingface_hub resolves it offline');

    step(5, 'mlcache run --offline -- node -e <list what the pipeline sees>');
    code = await mlcache(['run', '--offline', '--', process.execPath, '-e', LIST_SCRIPT]);
    if (code !== 0) return failed('run', code);
    proved('a pipeline stage started by `mlcache run` finds the cache offline, with no setup');

    console.log(`\nThe project is ${project}:`);
    console.log(await renderTree(path.join(project, '.cache'), 40));
    return 0;
  } finally {
    if (running) await emulator.close();
  }
}

function failed(what: string, code: number): number {
  console.error(`\nmlcache ${what} exited with code ${code}.`);
  return code;
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
