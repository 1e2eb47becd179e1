import { describe, expect, it } from 'vitest';
import { HOST_TAG, STALE_TEMP_MS, compareCodePoints, isStaleRepoTemp, repoTempName, serializeTreeCache, treeCacheText } from '../../../src/cache/index.js';

const NOW = 1_800_000_000_000;
const OTHER_HOST = HOST_TAG === '00000000' ? '11111111' : '00000000';
const ctx = { now: NOW, hostTag: HOST_TAG, pid: 4242, isAlive: (pid: number) => pid === 7 };

describe('repoTempName / isStaleRepoTemp', () => {
  it('names say host, pid and kind', () => {
    expect(repoTempName('link', 123)).toMatch(new RegExp(`^${HOST_TAG}-123-[0-9a-f]{8}\\.link$`));
    expect(repoTempName('ref')).toMatch(new RegExp(`^${HOST_TAG}-${process.pid}-[0-9a-f]{8}\\.ref$`));
  });

  it.each([
    ['this host, dead pid, fresh', `${HOST_TAG}-99-0123abcd.link`, NOW, true],
    ['this host, dead pid, copy', `${HOST_TAG}-99-0123abcd.copy`, NOW - 1000, true],
    ['this host, live pid, fresh', `${HOST_TAG}-7-0123abcd.copy`, NOW - 1000, false],
    ['this host, live pid, untouched for long', `${HOST_TAG}-7-0123abcd.copy`, NOW - STALE_TEMP_MS - 1, true],
    ['this process, fresh', `${HOST_TAG}-4242-0123abcd.ref`, NOW - 5000, false],
    ['this process (a reused pid), untouched for long', `${HOST_TAG}-4242-0123abcd.ref`, NOW - STALE_TEMP_MS - 1, true],
    ['another host, dead-looking pid, fresh', `${OTHER_HOST}-99-0123abcd.tree`, NOW - 1000, false],
    ['another host, old', `${OTHER_HOST}-99-0123abcd.tree`, NOW - STALE_TEMP_MS - 1, true],
    ['unknown name, fresh', 'something-else', NOW - 1000, false],
    ['unknown name, old', 'something-else', NOW - STALE_TEMP_MS - 1, true],
    ['unknown kind, dead pid, fresh', `${HOST_TAG}-99-0123abcd.tmp`, NOW, false],
  ])('%s', (_, name, mtime, stale) => {
    expect(isStaleRepoTemp(name, mtime, ctx)).toBe(stale);
  });
});

/** The straightforward definition: compare code point by code point. */
function referenceCompare(a: string, b: string): number {
  const pa = [...a].map((c) => c.codePointAt(0)!);
  const pb = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return pa.length - pb.length;
}

describe('compareCodePoints', () => {
  it('orders as Python sorts str (by code point), astral characters above U+E000–FFFF', () => {
    const alphabet = ['a', 'b', 'Z', '/', '.', 'é', '\u{E000}', '\u{FFFD}', '\u{FF21}', '😀', '\u{10000}', '\u{1F600}', '中'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const strings = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    for (let i = 0; i < strings.length; i++) {
      for (let j = 0; j < 40; j++) {
        const a = strings[i]!;
        const b = strings[(i * 31 + j) % strings.length]!;
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(referenceCompare(a, b)));
      }
    }
    expect(['\u{FF21}', '😀', 'a'].sort(compareCodePoints)).toEqual(['a', '\u{FF21}', '😀']);
  });
});

describe('treeCacheText', () => {
  it('its pieces are exactly serializeTreeCache', () => {
    const files = Array.from({ length: 50 }, (_, i) => ({ path: `f${49 - i}`, size: i, oid: 'a'.repeat(40), ...(i % 3 === 0 ? { lfs: { oid: 'b'.repeat(64), size: i } } : {}) }));
    expect([...treeCacheText(files)].join('')).toBe(serializeTreeCache(files));
    expect([...treeCacheText([])].join('')).toBe('{\n "format_version": 1,\n "files": {}\n}');
    expect(serializeTreeCache([{ path: 'a', size: 1, oid: 'c'.repeat(40) }])).toBe(
      `{\n "format_version": 1,\n "files": {\n  "a": {\n   "size": 1,\n   "blob_id": "${'c'.repeat(40)}"\n  }\n }\n}`,
    );
  });
});
