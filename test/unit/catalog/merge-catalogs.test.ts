import { describe, expect, it } from 'vitest';
import { applyPins, mergeCatalogs } from '../../../src/catalog/merge-catalogs.js';
import { validateCatalog } from '../../../src/catalog/validate-catalog.js';

const shipped = validateCatalog(
  {
    groups: {
      nllb: { description: 'NLLB', entries: [{ repo: 'facebook/nllb-200-3.3B', purpose: 'translate', include: ['*.bin'] }] },
      whisperx: {
        description: 'ASR',
        entries: [
          { repo: 'Systran/faster-whisper-large-v3', purpose: 'asr' },
          { repo: 'theainerd/Wav2Vec2-large-xlsr-hindi', purpose: 'align' },
        ],
      },
    },
  },
  'shipped.json',
);

describe('mergeCatalogs', () => {
  it('adds a group only the user catalog has, after the shipped ones', () => {
    const user = validateCatalog({ groups: { embeddings: { entries: [{ repo: 'BAAI/bge-m3', purpose: 'embed' }] } } }, 'u.json');
    const merged = mergeCatalogs(shipped, user);
    expect(Object.keys(merged.groups)).toEqual(['nllb', 'whisperx', 'embeddings']);
    expect(merged.groups.embeddings!.entries[0]).toMatchObject({ repo: 'BAAI/bge-m3' });
  });

  it('replaces an entry by name in place and appends new names', () => {
    const user = validateCatalog(
      {
        groups: {
          whisperx: {
            entries: [
              { repo: 'Systran/faster-whisper-large-v3', purpose: 'asr pinned', revision: 'v1.0' },
              { repo: 'jonatasgrosman/wav2vec2-large-xlsr-53-french', purpose: 'fr' },
            ],
          },
        },
      },
      'u.json',
    );
    const merged = mergeCatalogs(shipped, user);
    const entries = merged.groups.whisperx!.entries;
    expect(entries.map((e) => ('repo' in e ? e.repo : e.url))).toEqual([
      'Systran/faster-whisper-large-v3',
      'theainerd/Wav2Vec2-large-xlsr-hindi',
      'jonatasgrosman/wav2vec2-large-xlsr-53-french',
    ]);
    expect(entries[0]).toMatchObject({ revision: 'v1.0', purpose: 'asr pinned' });
    // Unchanged: the shipped description stays when the user gives none.
    expect(merged.groups.whisperx!.description).toBe('ASR');
    // The shipped catalog object is not modified.
    expect(shipped.groups.whisperx!.entries[0]).toMatchObject({ revision: 'main' });
  });

  it('the whole entry is replaced, not merged field by field', () => {
    const user = validateCatalog({ groups: { nllb: { entries: [{ repo: 'facebook/nllb-200-3.3B', purpose: 'all files' }] } } }, 'u.json');
    const entry = mergeCatalogs(shipped, user).groups.nllb!.entries[0]!;
    expect('include' in entry && entry.include).toBeFalsy();
  });

  it('"replace": true replaces the shipped group', () => {
    const user = validateCatalog(
      { groups: { whisperx: { replace: true, description: 'small ASR', entries: [{ repo: 'Systran/faster-whisper-small', purpose: 'asr' }] } } },
      'u.json',
    );
    const group = mergeCatalogs(shipped, user).groups.whisperx!;
    expect(group.entries).toHaveLength(1);
    expect(group.description).toBe('small ASR');
    expect(group).not.toHaveProperty('replace');
  });

  it('pins are merged key by key and applied to every entry of the repo', () => {
    const a = validateCatalog({ pins: { 'facebook/nllb-200-3.3B': 'aaaa', 'x/y': 'one' } }, 'a.json');
    const b = validateCatalog({ pins: { 'x/y': 'two' } }, 'b.json');
    const merged = mergeCatalogs(mergeCatalogs(shipped, a), b);
    expect(merged.pins).toEqual({ 'facebook/nllb-200-3.3B': 'aaaa', 'x/y': 'two' });
    const pinned = applyPins(merged);
    expect(pinned.groups.nllb!.entries[0]).toMatchObject({ revision: 'aaaa', include: ['*.bin'] });
    expect(pinned.groups.whisperx!.entries[0]).toMatchObject({ revision: 'main' });
  });
});
