/**
 * The launcher's pieces (repos file validation, the banner) and the demo fixture, served for real.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { snapshotDownload } from '@huggingface/hub';
import { describeEmulator, loadRepos, parseSyntheticFlag } from '../../src/cli/bin/hub-emulator.js';
import { DEMO_REPO_ID, demoRepos } from '../../src/emulator/index.js';
import { startEmulator } from '../helpers/emulator.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-emu-cli-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('hub-emulator launcher', () => {
  it('loads a repos file and reports invalid ones by path', async () => {
    const dir = await tempDir();
    const good = path.join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ repos: [{ id: 'a/b', revisions: [{ refs: ['main'], files: [{ path: 'x', content: 'y' }] }] }] }));
    expect(await loadRepos(good)).toEqual([{ id: 'a/b', revisions: [{ refs: ['main'], files: [{ path: 'x', content: 'y' }] }] }]);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify([{ id: 'a/b', revisions: [{ refs: ['main'], files: [{ path: 'x', generated: { size: -1 } }] }] }]));
    await expect(loadRepos(bad)).rejects.toThrow(/0\.revisions\.0\.files\.0\.generated\.size/);
  });

  it('prints both URLs, the token and each ref with its commit', async () => {
    const repos = demoRepos();
    const hub = await startEmulator({ repos });
    const text = describeEmulator(hub, repos, ['hf_emulator_valid_token_0000']);
    expect(text).toContain(`hub:   ${hub.url}`);
    expect(text).toContain(`cdn:   ${hub.cdnUrl}`);
    expect(text).toContain('hf_emulator_valid_token_0000');
    expect(text).toContain(hub.commitOf(DEMO_REPO_ID, 'main'));
    expect(text).toContain(hub.commitOf(DEMO_REPO_ID, 'v1.0'));
    expect(text).toMatch(/model\.safetensors\s+3\.15 MB\s+\(LFS\)/);
  });
});

describe('--synthetic', () => {
  it('parses [TYPE:]ID:FILES into a synthetic repo the emulator serves and the banner names', async () => {
    expect(parseSyntheticFlag('org/huge:1000000')).toEqual({ id: 'org/huge', type: 'dataset', revisions: [{ refs: ['main'], files: [], synthetic: { files: 1_000_000 } }] });
    expect(parseSyntheticFlag('model:org/m:5').type).toBe('model');
    expect(() => parseSyntheticFlag('org/huge')).toThrow(/--synthetic expects/);
    expect(() => parseSyntheticFlag('org/huge:many')).toThrow(/--synthetic expects/);
    const repos = [parseSyntheticFlag('org/huge:1000000')];
    const hub = await startEmulator({ repos });
    const text = describeEmulator(hub, repos, ['t']);
    expect(text).toContain('dataset org/huge');
    expect(text).toContain('+ 1000000 synthetic under data/');
    expect(text).toContain('mlcache download org/huge --repo-type dataset');
    const res = await fetch(`${hub.url}/datasets/org/huge/resolve/main/data/00999/999999.txt`);
    expect(await res.text()).toBe('data/00999/999999.txt\n');
  });
});

describe('demo fixture', () => {
  it('serves mlcache-demo/tiny-model at main and at the v1.0 tag', async () => {
    const hub = await startEmulator({ repos: demoRepos() });
    const cacheDir = await tempDir();
    const main = await snapshotDownload({ repo: DEMO_REPO_ID, cacheDir, hubUrl: hub.url });
    const files = (await readdir(main, { recursive: true })).sort();
    expect(files).toEqual(['.gitattributes', 'README.md', 'config.json', 'model.safetensors', 'onnx', 'onnx/model.onnx', 'tokenizer.json']);
    expect(JSON.parse(await readFile(path.join(main, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'tiny' });
    expect((await readFile(path.join(main, 'model.safetensors'))).length).toBe(3_145_728);

    const v1 = await snapshotDownload({ repo: DEMO_REPO_ID, cacheDir, hubUrl: hub.url, revision: 'v1.0' });
    expect(path.basename(v1)).toBe(hub.commitOf(DEMO_REPO_ID, 'v1.0'));
    expect(path.basename(v1)).not.toBe(path.basename(main));
    expect((await readFile(path.join(v1, 'model.safetensors'))).equals(await hub.contentOf(DEMO_REPO_ID, 'model.safetensors', 'v1.0'))).toBe(true);
    const repoDir = path.join(cacheDir, 'models--mlcache-demo--tiny-model');
    expect(await readFile(path.join(repoDir, 'refs', 'v1.0'), 'utf8')).toBe(hub.commitOf(DEMO_REPO_ID, 'v1.0'));
  });
});
