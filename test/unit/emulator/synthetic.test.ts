import { describe, expect, it } from 'vitest';
import { buildRepo, listTree, treePage, fileAt, type TreeCursor, type TreeItem } from '../../../src/emulator/repo-store.js';
import { readAll } from '../../../src/emulator/content.js';
import { SyntheticSet } from '../../../src/emulator/synthetic.js';

/** Every path of the set the slow way, with its directories, in plain string order. */
function expectedTree(set: SyntheticSet, prefixDirs: string[]): string[] {
  const paths = new Set<string>(prefixDirs);
  for (let i = 0; i < set.count; i++) {
    const p = set.pathOf(i);
    paths.add(p);
    paths.add(p.slice(0, p.lastIndexOf('/')));
  }
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function run(set: SyntheticSet, path: string, recursive: boolean): string[] {
  const r = set.scope(path, recursive);
  return Array.from({ length: r.length }, (_, i) => r.at(i).path);
}

describe('SyntheticSet', () => {
  const set = new SyntheticSet({ files: 2_345, prefix: 'a/b' });

  it('names files data/<dir>/<index>.txt and finds them back in O(1)', () => {
    expect(new SyntheticSet({ files: 1_000_000 }).pathOf(123)).toBe('data/00000/000123.txt');
    expect(new SyntheticSet({ files: 1_000_000 }).pathOf(999_999)).toBe('data/00999/999999.txt');
    expect(set.pathOf(2_344)).toBe('a/b/00002/002344.txt');
    expect(set.indexOf('a/b/00002/002344.txt')).toBe(2_344);
    expect(set.indexOf('a/b/00002/002345.txt')).toBeUndefined(); // past the end
    expect(set.indexOf('a/b/00001/002344.txt')).toBeUndefined(); // wrong bucket
    expect(set.indexOf('a/b/00002/2344.txt')).toBeUndefined();
    expect(set.isDir('a')).toBe(true);
    expect(set.isDir('a/b/00002')).toBe(true);
    expect(set.isDir('a/b/00003')).toBe(false);
  });

  it('lists the recursive tree in exactly the order a full sort gives', () => {
    expect(run(set, '', true)).toEqual(expectedTree(set, ['a', 'a/b']));
    expect(run(set, 'a', true)).toEqual(expectedTree(set, ['a/b']));
  });

  it('lists one level when not recursive', () => {
    expect(run(set, '', false)).toEqual(['a']);
    expect(run(set, 'a', false)).toEqual(['a/b']);
    expect(run(set, 'a/b', false)).toEqual(['a/b/00000', 'a/b/00001', 'a/b/00002']);
    const bucket = run(set, 'a/b/00002', false);
    expect(bucket).toHaveLength(345);
    expect(bucket[0]).toBe('a/b/00002/002000.txt');
    expect(run(set, 'a/b/00002', true)).toEqual(bucket);
    expect(run(set, 'elsewhere', true)).toEqual([]);
  });

  it('gives every file unique content: its path, padded to size', () => {
    const padded = new SyntheticSet({ files: 3, size: 64 });
    const bytes = readAll(padded.contentOf(2));
    expect(bytes.length).toBe(64);
    expect(bytes.toString().startsWith('data/00000/000002.txt\n')).toBe(true);
    expect(readAll(set.contentOf(7)).toString()).toBe('a/b/00000/000007.txt\n');
    expect(() => new SyntheticSet({ files: 3, size: 5 })).toThrow(/size/);
  });
});

describe('tree pages over explicit and synthetic files', () => {
  const repo = buildRepo({
    id: 'org/mixed',
    revisions: [
      {
        refs: ['main'],
        files: [
          { path: 'README.md', content: '# r\n' },
          { path: 'data/README.md', content: 'explicit beside the synthetic buckets\n' },
        ],
        synthetic: { files: 2_500 },
      },
    ],
  });
  const rev = repo.revisions[0]!;

  it('merge both runs in order, list the shared directory once, and end with no cursor', () => {
    const listing = listTree(rev, '', true)!;
    const seen: TreeItem[] = [];
    let cursor: TreeCursor | undefined = { explicit: 0, synthetic: 0 };
    let pages = 0;
    while (cursor) {
      const page = treePage(listing, cursor, 7);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items);
      cursor = page.next;
      pages++;
    }
    const paths = seen.map((i) => i.path);
    // 2 explicit files + 2 500 synthetic files + 'data' (once) + 3 buckets.
    expect(paths).toHaveLength(2_506);
    expect(pages).toBe(Math.ceil(2_506 / 7));
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toContain('data/README.md');
    expect(paths.filter((p) => p === 'data')).toHaveLength(1);
  });

  it('costs O(page) wherever the cursor is, even in a 10,000,000-file revision', () => {
    const huge = buildRepo({ id: 'org/huge', revisions: [{ refs: ['main'], files: [], synthetic: { files: 10_000_000 } }] }).revisions[0]!;
    const listing = listTree(huge, '', true)!;
    let reads = 0;
    const counted = { ...listing, synthetic: { length: listing.synthetic.length, at: (p: number) => (reads++, listing.synthetic.at(p)) } };
    const page = treePage(counted, { explicit: 0, synthetic: 9_000_000 }, 1000);
    expect(page.items).toHaveLength(1000);
    expect(reads).toBeLessThanOrEqual(2 * 1000 + 1);
    expect(page.next).toEqual({ explicit: 0, synthetic: 9_001_000 });
    // The last page ends the listing.
    const last = treePage(counted, { explicit: 0, synthetic: listing.synthetic.length - 10 }, 1000);
    expect(last.items.map((i) => i.path).at(-1)).toBe('data/09999/9999999.txt');
    expect(last.next).toBeUndefined();
  });

  it('finds explicit and synthetic files by path, and refuses colliding fixtures', () => {
    expect(fileAt(rev, 'data/00002/002499.txt')?.size).toBe('data/00002/002499.txt\n'.length);
    expect(fileAt(rev, 'data/README.md')?.lfs).toBe(false);
    expect(fileAt(rev, 'data/00002/002500.txt')).toBeUndefined();
    expect(() => buildRepo({ id: 'x', revisions: [{ refs: ['main'], files: [{ path: 'data/00000/000001.txt', content: 'x' }], synthetic: { files: 5 } }] })).toThrow(/collides/);
  });

  it('derives a commit from the synthetic spec without listing it', () => {
    const other = buildRepo({ id: 'org/mixed', revisions: [{ refs: ['main'], files: [], synthetic: { files: 2_501 } }] });
    const same = buildRepo({ id: 'org/mixed', revisions: [{ refs: ['main'], files: [], synthetic: { files: 2_501 } }] });
    expect(other.revisions[0]!.commit).toBe(same.revisions[0]!.commit);
    expect(other.revisions[0]!.commit).not.toBe(rev.commit);
  });
});
