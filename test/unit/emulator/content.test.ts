import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, padByte, readAll, readRange, readResized, type ContentSource } from '../../../src/emulator/content.js';
import { digestOfSource, gitBlobSha1 } from '../../../src/emulator/digests.js';

const source: ContentSource = { kind: 'generated', size: 3 * BLOCK_SIZE + 12_345, seed: 5 };

describe('generated content', () => {
  const whole = readAll(source);

  it('is deterministic, seed-dependent and of the declared size', () => {
    expect(whole.length).toBe(source.size);
    expect(readAll({ ...source }).equals(whole)).toBe(true);
    expect(readAll({ ...source, seed: 6 }).subarray(0, 64).equals(whole.subarray(0, 64))).toBe(false);
    // Not trivially constant: roughly uniform bytes.
    expect(new Set(whole.subarray(0, 4096)).size).toBeGreaterThan(200);
  });

  it.each([
    [0, 1],
    [1, 17],
    [15, 16 + 15],
    [BLOCK_SIZE - 3, BLOCK_SIZE + 5],
    [BLOCK_SIZE * 2 + 7, source.size],
    [source.size - 1, source.size + 100],
  ])('any range [%i, %i) equals the same slice of the whole', (start, end) => {
    const part = Buffer.concat([...readRange(source, start, end, 1000)]);
    expect(part.equals(whole.subarray(start, end))).toBe(true);
  });

  it('never yields chunks larger than asked', () => {
    for (const chunk of readRange(source, 3, source.size, 4096)) expect(chunk.length).toBeLessThanOrEqual(4096);
  });

  it('has digests equal to an independent sha256 and git blob sha1', async () => {
    const digest = await digestOfSource(source);
    expect(digest.sha256).toBe(createHash('sha256').update(whole).digest('hex'));
    expect(digest.gitSha1).toBe(createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${whole.length}\0`), whole])).digest('hex'));
    // huggingface_hub tests/test_utils_sha.py: git_hash(b"Hello, World!")
    expect(gitBlobSha1('Hello, World!')).toBe('b45ef6fec89518d314f546fd6c3025367b721684');
  });
});

describe('resized content (wrong-length / wrong-total faults)', () => {
  const small: ContentSource = { kind: 'literal', bytes: Buffer.from('0123456789') };

  it('truncates to a smaller size and pads a larger one with padByte, for any window', () => {
    expect(Buffer.concat([...readResized(small, 6, 0, 100)]).toString()).toBe('012345');
    const longer = Buffer.concat([...readResized(small, 14, 0, 14)]);
    expect(longer.subarray(0, 10).toString()).toBe('0123456789');
    expect([...longer.subarray(10)]).toEqual([10, 11, 12, 13].map(padByte));
    // A window straddling the real end, read in 3-byte chunks.
    const window = Buffer.concat([...readResized(small, 14, 8, 13, 3)]);
    expect([...window]).toEqual([56, 57, padByte(10), padByte(11), padByte(12)]);
    expect([...readResized(small, 6, 7, 9)]).toEqual([]);
  });
});
