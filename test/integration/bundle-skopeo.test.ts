/**
 * The bundle is a standard OCI image layout, read by outside tools: skopeo (Debian's) inspects the
 * exported tar by ref name, copies it into a REAL registry (Debian's docker-registry on loopback),
 * and `mlcache pull` of that gives the same cache as `mlcache import` of the tar; an archive skopeo
 * wrote itself (blobs first, index.json, oci-layout last) imports too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { exportBundle } from '../../src/commands/export.js';
import { importBundle } from '../../src/commands/import.js';
import { pull } from '../../src/commands/pull.js';
import { loadSettings } from '../../src/config/settings.js';
import { DATASET, MODEL, bundleRepos, cacheFingerprint, readTar } from '../helpers/bundle.js';
import { useEmulator } from '../helpers/emulator.js';
import { useRealRegistry } from '../helpers/real-registry.js';

const run = promisify(execFile);
const hub = useEmulator(() => ({ repos: bundleRepos() }));
const real = useRealRegistry();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-bundle-skopeo-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const settingsFor = (cacheDir: string) => loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url });

async function exportAll(): Promise<{ source: string; bundle: string; manifests: Map<string, string> }> {
  const source = path.join(root, 'source');
  await download({ settings: settingsFor(source), repoId: MODEL });
  await download({ settings: settingsFor(source), repoId: DATASET, repoType: 'dataset' });
  const bundle = path.join(root, 'bundle.tar');
  const exported = await exportBundle({ settings: settingsFor(source), repos: [{ repoId: MODEL }, { repoId: DATASET, repoType: 'dataset' }], target: bundle });
  return { source, bundle, manifests: new Map(exported.snapshots.map((s) => [s.refName, s.manifestDigest])) };
}

describe('skopeo and a real registry read an exported bundle', { timeout: 120_000 }, () => {
  it('skopeo inspects each snapshot by ref name; copied into docker-registry, `pull` gives the same cache as `import`', async () => {
    const { source, bundle, manifests } = await exportAll();
    for (const ref of [`${MODEL}:main`, `datasets/${DATASET}:main`]) {
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci-archive:${bundle}:${ref}`], { timeout: 30_000 });
      const manifest = JSON.parse(stdout);
      expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
      // The very bytes mlcache wrote (skopeo hands the manifest through unchanged).
      const entry = (await readTar(bundle)).find((e) => e.name === `blobs/sha256/${manifests.get(ref)!.slice(7)}`)!;
      expect(stdout.trim()).toBe(entry.data.toString('utf8'));
    }

    const imported = path.join(root, 'imported');
    await importBundle({ settings: settingsFor(imported), source: bundle });
    expect(await cacheFingerprint(imported)).toEqual(await cacheFingerprint(source));

    const destination = `${real().registry}/models/acme/bundle-model:main`;
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${bundle}:${MODEL}:main`, `docker://${destination}`], { timeout: 60_000 });
    const datasetDestination = `${real().registry}/datasets/acme/bundle-data:main`;
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${bundle}:datasets/${DATASET}:main`, `docker://${datasetDestination}`], { timeout: 60_000 });
    const pulled = path.join(root, 'pulled');
    const model = await pull({ settings: settingsFor(pulled), reference: `oci://${destination}` });
    expect(model.manifestDigest).toBe(manifests.get(`${MODEL}:main`));
    await pull({ settings: settingsFor(pulled), reference: `oci://${datasetDestination}` });
    // pull leaves each repo's (empty) private .mlcache-tmp/ behind; no reader lists it.
    const pulledPrint = Object.fromEntries(Object.entries(await cacheFingerprint(pulled)).filter(([k]) => !k.endsWith('/.mlcache-tmp')));
    expect(pulledPrint).toEqual(await cacheFingerprint(imported));
  });

  it('an archive skopeo wrote from the layout folder (its own entry order) imports to the same cache', async () => {
    const { source } = await exportAll();
    const folder = path.join(root, 'layout');
    await exportBundle({ settings: settingsFor(source), repos: [{ repoId: MODEL }], target: `${folder}/` });
    const archive = path.join(root, 'skopeo.tar');
    await run('skopeo', ['copy', `oci:${folder}:${MODEL}:main`, `oci-archive:${archive}:${MODEL}:main`], { timeout: 60_000 });
    const names = (await readTar(archive)).map((e) => e.name);
    // skopeo's order is not ours: the layout file comes after the blobs.
    expect(names.indexOf('oci-layout')).toBeGreaterThan(names.findIndex((n) => n.startsWith('blobs/sha256/')));

    const target = path.join(root, 'target');
    const result = await importBundle({ settings: settingsFor(target), source: archive });
    expect(result.snapshots.map((s) => `${s.repoId}@${s.revision}`)).toEqual([`${MODEL}@main`]);
    const expected = await cacheFingerprint(source);
    const actual = await cacheFingerprint(target);
    for (const key of Object.keys(expected)) if (key.startsWith('datasets--')) delete expected[key];
    expect(actual).toEqual(expected);
    expect(JSON.parse(await readFile(path.join(folder, 'index.json'), 'utf8')).manifests).toHaveLength(1);
  });
});
