/**
 * The catalog's `local_dir` (a Hub entry's folder of real files, as `download --local-dir`):
 * cache-models fills the hub cache and writes the selected files and huggingface_hub's metadata
 * into the folder; a second run changes nothing there (same inode, same mtime); a relative value
 * resolves against the project root when run from a subfolder; `--dry-run` names the folder and
 * writes nothing there; the disk preflight counts the copies; bad values are CATALOG_INVALID
 * before any request; the catalog's JSON Schema has the field.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogJsonSchema } from '../../src/catalog/index.js';
import { formatPlanTable, formatSummary } from '../../src/cli/ui/cache-models-format.js';
import { CacheModelsPlanSchema } from '../../src/commands/cache-models/plan-schema.js';
import { cacheModels, planCacheModels, type CacheModelsOptions } from '../../src/commands/cache-models/index.js';
import { loadSettings } from '../../src/config/settings.js';
import { parseDownloadMetadata } from '../../src/snapshot/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { mlcacheRejectionFrom } from '../helpers/errors.js';

const REPO = 'acme/local';
const CONFIG = '{"hidden":64}\n';
const TOKENIZER = '{"v":[1,2,3]}\n';
const WEIGHTS = 3_000_000;
const FILES = ['config.json', 'model.safetensors', 'sub/dir/tokenizer.json'];
const hub = useEmulator({
  repos: [
    {
      id: REPO,
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: CONFIG },
            { path: 'sub/dir/tokenizer.json', content: TOKENIZER },
            { path: 'model.safetensors', generated: { size: WEIGHTS, seed: 5 } },
          ],
        },
      ],
    },
  ],
});

let tmp: string;
let project: string;
let hubCache: string;
let shipped: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cm-local-dir-'));
  project = path.join(tmp, 'project');
  hubCache = path.join(tmp, 'hub');
  shipped = path.join(tmp, 'shipped.json');
  await writeFile(shipped, JSON.stringify({ version: 1, groups: {} }));
  await writeProjectCatalog('models/local');
  hub().resetStats();
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The project's config/models.json with one entry whose local_dir is `localDir`. */
async function writeProjectCatalog(localDir: string): Promise<void> {
  await mkdir(path.join(project, 'config'), { recursive: true });
  const catalog = { version: 1, groups: { local: { entries: [{ repo: REPO, purpose: 'a folder for a server', local_dir: localDir }] } } };
  await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify(catalog));
}

function options(cwd: string, extra: Partial<CacheModelsOptions> = {}): CacheModelsOptions {
  const env = { HOME: tmp, HF_HUB_CACHE: hubCache, HF_ENDPOINT: hub().url };
  return {
    settings: loadSettings({ env, cwd }),
    shippedCatalogPath: shipped,
    groups: ['local'],
    platform: { os: 'linux', arch: 'x64' },
    freeSpace: () => Promise.resolve(100 * 1024 ** 3),
    ...extra,
  };
}

const fileGets = () => hub().stats.requests.filter((r) => r.method === 'GET' && (r.origin === 'cdn' || r.url.includes('/resolve/'))).length;

async function snapshotOf(dir: string): Promise<Record<string, { ino: number; mtimeMs: number; size: number }>> {
  const out: Record<string, { ino: number; mtimeMs: number; size: number }> = {};
  for (const f of FILES) {
    for (const p of [path.join(dir, f), path.join(dir, '.cache', 'huggingface', 'download', `${f}.metadata`)]) {
      const s = await stat(p);
      out[path.relative(dir, p)] = { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size };
    }
  }
  return out;
}

describe('cache-models with a catalog local_dir', () => {
  it('fills the hub cache and the folder (relative to the project root, run from a subfolder); a second run changes nothing', async () => {
    const sub = path.join(project, 'services', 'api');
    await mkdir(sub, { recursive: true });
    const localDir = path.join(project, 'models', 'local');

    const first = await cacheModels(options(sub));
    expect(first.ok).toBe(true);
    const entry = first.entries[0]!;
    expect(entry.status).toBe('fetched');
    expect(entry.localDir?.path).toBe(localDir);
    expect(entry.localDir?.upToDate).toBe(0);
    const placed = entry.localDir!.placed;
    expect(placed.reflink + placed.copy).toBe(3);
    expect(formatSummary(first)).toMatch(new RegExp(`\\n {10}local_dir ${localDir}: 3 written \\(.*\\), 0 up to date\\n`));
    // Not resolved against the working folder.
    expect(existsSync(path.join(sub, 'models'))).toBe(false);

    // Real files with the cache's bytes, and huggingface_hub's metadata naming the commit.
    expect(await readFile(path.join(localDir, 'config.json'), 'utf8')).toBe(CONFIG);
    expect(await readFile(path.join(localDir, 'sub', 'dir', 'tokenizer.json'), 'utf8')).toBe(TOKENIZER);
    const snapshotDir = path.join(hubCache, 'models--acme--local', 'snapshots', entry.commit!);
    const weights = await readFile(path.join(localDir, 'model.safetensors'));
    expect(weights.equals(await readFile(path.join(snapshotDir, 'model.safetensors')))).toBe(true);
    for (const f of FILES) {
      const text = await readFile(path.join(localDir, '.cache', 'huggingface', 'download', `${f}.metadata`), 'utf8');
      expect(parseDownloadMetadata(text)?.commit).toBe(entry.commit);
      expect((await stat(path.join(localDir, f))).isSymbolicLink()).toBe(false);
    }
    expect(await readFile(path.join(localDir, '.cache', 'huggingface', '.gitignore'), 'utf8')).toBe('*');

    const before = await snapshotOf(localDir);
    const gets = fileGets();
    const second = await cacheModels(options(sub));
    expect(second.entries[0]).toMatchObject({ status: 'cached', localDir: { path: localDir, upToDate: 3, placed: { reflink: 0, copy: 0 } } });
    expect(second.allCached).toBe(true);
    expect(formatSummary(second)).toContain(`local_dir ${localDir}: 0 written, 3 up to date`);
    expect(fileGets()).toBe(gets);
    expect(await snapshotOf(localDir)).toEqual(before);
  });

  it('--dry-run names the folder and what it lacks, writes nothing there, and the preflight counts the copies', async () => {
    const plan = await planCacheModels(options(project));
    CacheModelsPlanSchema.parse(plan);
    const localDir = path.join(project, 'models', 'local');
    expect(plan.entries[0]).toMatchObject({ localDir, localFilesNeeded: 3, files: 3 });
    expect(formatPlanTable(plan)).toContain(`\n  local_dir ${localDir}: 3 of 3 files to write\n`);
    expect(existsSync(localDir)).toBe(false);
    expect(existsSync(hubCache)).toBe(false);
    // One filesystem: every file of the folder is a copy (never a hardlink to a blob), beside the blobs.
    const regular = Buffer.byteLength(CONFIG) + Buffer.byteLength(TOKENIZER);
    expect(plan.bytesNeeded).toBe(WEIGHTS + regular);
    expect(plan.volumes).toHaveLength(1);
    expect(plan.volumes[0]!.roots).toEqual([hubCache, localDir]);
    expect(plan.volumes[0]!.bytesNeeded).toBe(2 * plan.bytesNeeded);

    // Once the cache holds the files, the folder alone still needs its copies.
    await cacheModels(options(project));
    await rm(localDir, { recursive: true });
    const again = await planCacheModels(options(project));
    expect(again.bytesNeeded).toBe(0);
    expect(again.entries[0]).toMatchObject({ localDir, localFilesNeeded: 3 });
    expect(again.volumes[0]!.bytesNeeded).toBe(WEIGHTS + regular);
  });

  it('refuses a bad local_dir with CATALOG_INVALID before any request', async () => {
    for (const [value, message] of [
      ['', /local_dir: must name a folder \(it is empty\)/],
      ['   ', /local_dir: local_dir ' {3}' must name a folder \(it is blank\)/],
      ['~/models', /is not expanded/],
      [path.join(hubCache, 'models--acme--local'), /inside the hub cache/],
      ['../hub/x', /inside the hub cache/],
    ] as const) {
      await writeProjectCatalog(value);
      hub().resetStats();
      const error = await mlcacheRejectionFrom(planCacheModels(options(project)));
      expect(error.code, value).toBe('CATALOG_INVALID');
      expect(error.exitCode).toBe(3);
      expect(error.message).toMatch(message);
      expect(error.message).toContain(path.join(project, 'config', 'models.json'));
      expect(error.hint).toBeTruthy();
      expect(hub().stats.requests).toHaveLength(0);
    }
  });

  it('the catalog JSON Schema (config/models.schema.json) has local_dir on Hub entries only', async () => {
    const committed = JSON.parse(await readFile(path.join(import.meta.dirname, '..', '..', 'config', 'models.schema.json'), 'utf8')) as Record<string, unknown>;
    expect(committed).toEqual(JSON.parse(JSON.stringify(catalogJsonSchema())));
    const text = JSON.stringify(committed);
    expect(text.match(/"local_dir":\{"description":"Also put the selected files/g)).toHaveLength(1);
  });
});
