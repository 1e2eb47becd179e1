import { describe, expect, it } from 'vitest';
import { JournalHeaderSchema } from '../../../src/download/journal-schema.js';
import { DIGEST_ALGORITHMS } from '../../../src/util/digest-algorithm.js';
import { createHasher } from '../../../src/util/hash.js';

describe('DigestAlgorithm', () => {
  it('names exactly the two content names of the HF cache, each hashing as documented', () => {
    expect([...DIGEST_ALGORITHMS]).toEqual(['sha256', 'git-sha1']);
    const empty = Object.fromEntries(DIGEST_ALGORITHMS.map((a) => [a, createHasher(a, 0).digest()]));
    // sha256 of no bytes; git's id of the empty blob (`git hash-object /dev/null`).
    expect(empty).toEqual({
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'git-sha1': 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391',
    });
  });

  it('is what a resume journal may name, and nothing else', () => {
    const header = (algorithm: string) => ({ format: 'mlcache-journal', version: 2, size: 1, chunkSize: 1, digest: { algorithm, hex: 'a'.repeat(64) } });
    for (const a of DIGEST_ALGORITHMS) expect(JournalHeaderSchema.safeParse(header(a)).success).toBe(true);
    expect(JournalHeaderSchema.safeParse(header('sha1')).success).toBe(false);
  });
});
