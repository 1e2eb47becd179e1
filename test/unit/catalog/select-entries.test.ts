import { describe, expect, it } from 'vitest';
import { MODELS_GROUP, selectEntries, splitList, type SelectionRequest } from '../../../src/catalog/select-entries.js';
import { validateCatalog } from '../../../src/catalog/validate-catalog.js';
import { mlcacheErrorFrom } from '../../helpers/errors.js';

const SHA = 'b'.repeat(64);
const catalog = validateCatalog(
  {
    groups: {
      indictrans2: {
        entries: [
          { repo: 'ai4bharat/indictrans2-indic-en-1B', purpose: 'p', gated: true, include: ['*.py'] },
          { repo: 'ai4bharat/indictrans2-indic-indic-1B', purpose: 'p', gated: true, optional: true },
        ],
      },
      nllb: { entries: [{ repo: 'facebook/nllb-200-3.3B', purpose: 'p', include: ['*.bin'] }] },
      whisperx: {
        entries: [
          { repo: 'Systran/faster-whisper-large-v3', purpose: 'p' },
          { name: 'align-en', url: 'https://e.com/a.pth', sha256: SHA, size: 5, destination: 'hub/checkpoints/a.pth', purpose: 'p' },
        ],
      },
      mlx: { platform: { os: ['darwin'], arch: ['arm64'] }, entries: [{ repo: 'mlx-community/whisper-large-v3-mlx', purpose: 'p' }] },
      extras: { entries: [{ repo: 'a/win-only', purpose: 'p', platform: { os: ['win32'] } }, { repo: 'a/any', purpose: 'p' }] },
    },
  },
  'test.json',
);

const linux = { os: 'linux', arch: 'x64' };
const mac = { os: 'darwin', arch: 'arm64' };

function names(request: Partial<SelectionRequest>): string[] {
  return selectEntries(catalog, { platform: linux, ...request }).entries.map((e) => `${e.group}:${e.name}${e.skipped ? ' (skipped)' : ''}`);
}

describe('selectEntries', () => {
  it.each([
    [['indictrans2'], ['indictrans2:ai4bharat/indictrans2-indic-en-1B', 'indictrans2:ai4bharat/indictrans2-indic-indic-1B']],
    [['nllb'], ['nllb:facebook/nllb-200-3.3B']],
    [['whisperx'], ['whisperx:Systran/faster-whisper-large-v3', 'whisperx:align-en']],
    [['nllb', 'whisperx'], ['nllb:facebook/nllb-200-3.3B', 'whisperx:Systran/faster-whisper-large-v3', 'whisperx:align-en']],
  ])('groups %j select exactly their entries', (groups, expected) => {
    expect(names({ groups })).toEqual(expected);
  });

  it('--all on Linux keeps mlx in the plan as skipped, with the reason', () => {
    const { entries } = selectEntries(catalog, { all: true, platform: linux });
    const mlx = entries.find((e) => e.group === 'mlx')!;
    expect(mlx.skipped).toBe('only for darwin-arm64 (Apple Silicon); this machine is linux-x64 (--force caches it anyway)');
    expect(entries.filter((e) => !e.skipped).map((e) => e.group)).not.toContain('mlx');
    expect(entries.find((e) => e.name === 'a/win-only')?.skipped).toContain('only for win32');
    expect(entries.find((e) => e.name === 'a/any')?.skipped).toBeUndefined();
  });

  it('--all on Apple Silicon includes mlx', () => {
    const { entries } = selectEntries(catalog, { all: true, platform: mac });
    expect(entries.find((e) => e.group === 'mlx')?.skipped).toBeUndefined();
  });

  it('--mlx on Linux is skipped unless --force', () => {
    expect(names({ groups: ['mlx'] })).toEqual(['mlx:mlx-community/whisper-large-v3-mlx (skipped)']);
    expect(names({ groups: ['mlx'], force: true })).toEqual(['mlx:mlx-community/whisper-large-v3-mlx']);
  });

  it('--model uses the catalog entry of that repo (its patterns) with the given revision', () => {
    const { entries } = selectEntries(catalog, { models: ['facebook/nllb-200-3.3B@v2'], platform: linux });
    expect(entries).toEqual([
      expect.objectContaining({ group: MODELS_GROUP, name: 'facebook/nllb-200-3.3B', revision: 'v2', include: ['*.bin'] }),
    ]);
  });

  it('--model takes comma lists and repeats, and unknown repos are whole-repo entries', () => {
    const { entries } = selectEntries(catalog, { models: ['org/a, org/b@dev', 'gpt2'], platform: linux });
    expect(entries.map((e) => (e.kind === 'hub' ? `${e.repo.id}@${e.revision}` : e.name))).toEqual(['org/a@main', 'org/b@dev', 'gpt2@main']);
    expect(entries[0]).toMatchObject({ include: undefined, exclude: undefined, gated: false });
  });

  it('the same repo selected twice is planned once', () => {
    expect(names({ groups: ['nllb'], models: ['facebook/nllb-200-3.3B'] })).toEqual(['nllb:facebook/nllb-200-3.3B']);
  });

  it('preset models are used only when the flags select nothing', () => {
    const preset = selectEntries(catalog, { presetModels: ['org/a', 'org/b'], platform: linux });
    expect(preset.source).toBe('preset');
    expect(preset.entries.map((e) => e.name)).toEqual(['org/a', 'org/b']);
    const flags = selectEntries(catalog, { groups: ['nllb'], presetModels: ['org/a'], platform: linux });
    expect(flags.source).toBe('flags');
    expect(flags.entries.map((e) => e.name)).toEqual(['facebook/nllb-200-3.3B']);
  });

  it('no selection is a usage error listing the groups', () => {
    const error = mlcacheErrorFrom(() => selectEntries(catalog, { platform: linux }));
    expect(error.code).toBe('USAGE');
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('indictrans2, nllb, whisperx, mlx, extras');
  });

  it('an unknown group is UNKNOWN_GROUP with the known groups', () => {
    const error = mlcacheErrorFrom(() => selectEntries(catalog, { groups: ['nllb', 'embedings'], platform: linux }));
    expect(error.code).toBe('UNKNOWN_GROUP');
    expect(error.message).toContain("'embedings'");
    expect(error.hint).toContain('indictrans2, nllb, whisperx, mlx, extras');
  });

  it('a bad --model spec is INVALID_REPO_ID', () => {
    expect(mlcacheErrorFrom(() => selectEntries(catalog, { models: ['a/b/c'], platform: linux })).code).toBe('INVALID_REPO_ID');
  });
});

describe('splitList', () => {
  it('splits, trims and drops empties', () => {
    expect(splitList(['a, b', '', 'c,,'])).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toEqual([]);
  });
});
