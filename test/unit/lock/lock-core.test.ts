import { describe, expect, it } from 'vitest';
import type { SelectedEntry } from '../../../src/catalog/index.js';
import { cacheKey, compareWithLock, describeComparison, diffFiles, parseLockText, serializeLock, type Lockfile, type LockedHubEntry } from '../../../src/lock/index.js';
import { mlcacheErrorFrom } from '../../helpers/errors.js';

const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);

function hubEntry(extra: Partial<LockedHubEntry> = {}): LockedHubEntry {
  return {
    group: 'asr',
    name: 'org/a',
    kind: 'hub',
    repo: 'org/a',
    type: 'model',
    revision: 'main',
    commit: C1,
    files: [
      { path: 'b.bin', size: 10, blobId: 'b'.repeat(40), lfs: { sha256: 'c'.repeat(64), size: 10 } },
      { path: 'a.json', size: 2, blobId: 'a'.repeat(40) },
    ],
    ...extra,
  };
}

function lockOf(entries: Lockfile['entries'], selection: Partial<Lockfile['selection']> = {}): Lockfile {
  return { version: 1, platform: { os: 'linux', arch: 'x64' }, selection: { all: true, groups: [], models: [], force: false, ...selection }, entries };
}

function selectedHub(extra: Partial<Extract<SelectedEntry, { kind: 'hub' }>> = {}): SelectedEntry {
  return {
    kind: 'hub',
    group: 'asr',
    name: 'org/a',
    repo: { id: 'org/a', type: 'model' },
    revision: 'main',
    include: undefined,
    exclude: undefined,
    formats: undefined,
    gated: false,
    optional: false,
    purpose: 'x',
    approxBytes: undefined,
    ...extra,
  };
}

describe('serializeLock', () => {
  it('gives the same bytes whatever the order of entries, files and keys', () => {
    const url = { group: 'asr', name: 'align', kind: 'url' as const, url: 'https://x/a.pth', sha256: 'd'.repeat(64), size: 5, destination: 'hub/a.pth' };
    const a = serializeLock(lockOf([hubEntry(), url], { groups: ['b', 'a', 'b'] }));
    const shuffled = hubEntry({ files: [...hubEntry().files].reverse() });
    const reordered = Object.fromEntries(Object.entries(shuffled).reverse()) as LockedHubEntry;
    const b = serializeLock(lockOf([url, reordered], { groups: ['a', 'b'] }));
    expect(b).toBe(a);
    const parsed = JSON.parse(a) as Lockfile;
    expect(parsed.entries.map((e) => e.name)).toEqual(['align', 'org/a']);
    expect((parsed.entries[1] as LockedHubEntry).files.map((f) => f.path)).toEqual(['a.json', 'b.bin']);
    expect(parsed.selection.groups).toEqual(['a', 'b']);
    expect(Object.keys(parsed.entries[1]!)).toEqual(['group', 'name', 'kind', 'repo', 'type', 'revision', 'commit', 'files']);
    expect(a.endsWith('\n')).toBe(true);
    expect(a).not.toMatch(/20\d\d-/); // no timestamp
  });

  it('round-trips through parseLockText', () => {
    const text = serializeLock(lockOf([hubEntry()]));
    expect(serializeLock(parseLockText(text, 'mlcache.lock'))).toBe(text);
  });
});

describe('parseLockText', () => {
  it('names the line of bad JSON and the JSON path of a bad field', () => {
    const json = mlcacheErrorFrom(() => parseLockText('{\n  "version": 1,\n  oops\n}', '/p/mlcache.lock'));
    expect(json.code).toBe('LOCK_INVALID');
    expect(json.message).toMatch(/^\/p\/mlcache\.lock:3:\d+: /);
    const bad = JSON.parse(serializeLock(lockOf([hubEntry()]))) as { entries: Array<{ commit: string }> };
    bad.entries[0]!.commit = 'main';
    const field = mlcacheErrorFrom(() => parseLockText(JSON.stringify(bad), 'mlcache.lock'));
    expect(field.code).toBe('LOCK_INVALID');
    expect(field.message).toContain('entries[0].commit');
    expect(field.hint).toContain('mlcache lock');
    const newer = mlcacheErrorFrom(() => parseLockText(JSON.stringify({ version: 2, entries: [] }), 'mlcache.lock'));
    expect(newer.code).toBe('LOCK_INVALID');
    expect(newer.message).toBe('mlcache.lock is lock format 2, written by a newer mlcache; this one reads format 1.');
  });
});

describe('compareWithLock', () => {
  it('sorts entries into added, removed, changed and unchanged', () => {
    const other = hubEntry({ group: 'nllb', name: 'org/b', repo: 'org/b' });
    const result = compareWithLock(
      [selectedHub(), selectedHub({ group: 'new', name: 'org/c', repo: { id: 'org/c', type: 'model' } }), selectedHub({ group: 'x', name: 'skipped', skipped: 'only for darwin' })],
      [hubEntry(), other],
    );
    expect(result.unchanged.map((u) => u.locked.name)).toEqual(['org/a']);
    expect(result.added.map((e) => e.name)).toEqual(['org/c']);
    expect(result.removed.map((e) => e.name)).toEqual(['org/b']);
    expect(describeComparison(result)).toEqual(['new/org/c: in the catalog, not in the lock', 'nllb/org/b: in the lock, no longer selected by the catalog']);
  });

  it.each([
    [{ revision: 'v2' }, ['revision']],
    [{ include: ['*.json'] }, ['include']],
    [{ exclude: ['*.bin'] }, ['exclude']],
    [{ formats: [['*.safetensors']] }, ['formats']],
    [{ repo: { id: 'org/a', type: 'dataset' as const } }, ['type']],
    [{ revision: C2 }, ['revision']],
  ])('a catalog change %j is reported as %j', (change, fields) => {
    const result = compareWithLock([selectedHub(change)], [hubEntry()]);
    expect(result.changed.map((c) => c.fields)).toEqual([fields]);
  });

  it('a commit pinned in the catalog must be the locked commit', () => {
    expect(compareWithLock([selectedHub({ revision: C1 })], [hubEntry({ revision: C1 })]).changed).toEqual([]);
    expect(compareWithLock([selectedHub({ revision: C1 })], [hubEntry({ revision: C1, commit: C2 })]).changed[0]?.fields).toEqual(['commit']);
  });
});

describe('diffFiles', () => {
  it('counts added, removed and changed files and the bytes', () => {
    const before = hubEntry().files;
    const after = [{ path: 'a.json', size: 3, blobId: 'e'.repeat(40) }, { path: 'c.txt', size: 4, blobId: 'f'.repeat(40) }];
    expect(diffFiles(before, after)).toEqual({ added: ['c.txt'], removed: ['b.bin'], changed: ['a.json'], bytesBefore: 12, bytesAfter: 7 });
  });
});

describe('cacheKey', () => {
  const selection = { all: true, groups: [], models: [], force: false };
  const linux = { os: 'linux', arch: 'x64' };
  it('is mlcache-<os>-<arch>-<16 hex> and changes with the lock, the selection and the platform only', () => {
    const key = cacheKey(lockOf([hubEntry()]), selection, linux);
    expect(key).toMatch(/^mlcache-linux-x64-[0-9a-f]{16}$/);
    expect(cacheKey(lockOf([hubEntry({ files: [...hubEntry().files].reverse() })]), selection, linux)).toBe(key);
    expect(cacheKey(lockOf([hubEntry({ commit: C2 })]), selection, linux)).not.toBe(key);
    expect(cacheKey(lockOf([hubEntry()]), { ...selection, groups: ['asr'] }, linux)).not.toBe(key);
    expect(cacheKey(lockOf([hubEntry()]), selection, { os: 'darwin', arch: 'arm64' })).toMatch(/^mlcache-darwin-arm64-/);
    expect(cacheKey(lockOf([hubEntry()]), selection, { os: 'linux', arch: 'arm64' }).slice(-16)).not.toBe(key.slice(-16));
  });
});
