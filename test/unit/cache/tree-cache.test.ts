import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareCodePoints } from '../../../src/cache/tree-cache.js';
import { parseTreeCache, serializeTreeCache, type TreeCacheFile } from '../../../src/cache/index.js';

/**
 * The reference: what huggingface_hub _tree_cache.py::write_tree_cache writes, i.e.
 * json.dump({"format_version": 1, "files": {p: entry for p in sorted(paths)}}, f, indent=1)
 * with entry keys in the order size, blob_id, lfs_sha256, lfs_size, xet_hash.
 */
const PYTHON = `
import json, sys
files = json.loads(sys.stdin.read())
entries = {}
for f in files:
    info = {"size": f["size"], "blob_id": f["oid"]}
    if f.get("lfs") is not None:
        info["lfs_sha256"] = f["lfs"]["oid"]
        info["lfs_size"] = f["lfs"]["size"]
    if f.get("xetHash") is not None:
        info["xet_hash"] = f["xetHash"]
    entries[f["path"]] = info
data = {"format_version": 1, "files": {p: entries[p] for p in sorted(entries)}}
json.dump(data, sys.stdout, indent=1)
`;

function python(files: TreeCacheFile[]): string {
  return execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify(files), encoding: 'utf8' });
}

const SHA256 = '7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1421';
const XET = 'ab'.repeat(32);

const FILES: TreeCacheFile[] = [
  { path: 'model.safetensors', size: 548105171, oid: '8095a62ccb1bb1a1b6d2c5e1e3a9bd1e0e2c6f3a', lfs: { oid: SHA256, size: 548105171 }, xetHash: XET },
  { path: 'config.json', size: 665, oid: '10c66461e4c109db5a2196bff4bb59be30396ed8' },
  { path: 'onnx/decoder.onnx', size: 12, oid: '1111111111111111111111111111111111111111', lfs: { oid: SHA256, size: 12 } },
  { path: 'Zeta.txt', size: 0, oid: 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391' },
  { path: 'données/ünïcode 文件.txt', size: 1, oid: '2222222222222222222222222222222222222222' },
  { path: 'emoji/😀.txt', size: 2, oid: '3333333333333333333333333333333333333333' },
  { path: 'emoji/\uff01fullwidth.txt', size: 3, oid: '4444444444444444444444444444444444444444' },
  { path: 'quote"back\\slash\ttab\u007f.txt', size: 4, oid: '5555555555555555555555555555555555555555' },
];

describe('serializeTreeCache', () => {
  it('matches python3 json.dump(indent=1) byte for byte, ensure_ascii escapes and code-point sort included', () => {
    const ours = serializeTreeCache(FILES);
    expect(ours).toBe(python(FILES));
    expect(ours).toMatch(/\\u00e9es/); // é escaped
    expect(ours).toMatch(/\\ud83d\\ude00/); // 😀 as a surrogate pair
    expect(ours.endsWith('}')).toBe(true);
  });

  it('matches python3 for an empty listing', () => {
    expect(serializeTreeCache([])).toBe(python([]));
  });

  it('sorts by code point like Python, not by UTF-16 unit like Array.prototype.sort', () => {
    const astral = '😀'; // U+1F600: code units D83D DE00
    const bmp = '\uff01'; // U+FF01 sorts before U+1F600 by code point, after it by code unit
    expect([astral, bmp].sort()).toEqual([astral, bmp]);
    expect([astral, bmp].sort(compareCodePoints)).toEqual([bmp, astral]);
  });

  it('round-trips through parseTreeCache', () => {
    const parsed = parseTreeCache(JSON.parse(serializeTreeCache(FILES)));
    expect(parsed?.find((f) => f.path === 'model.safetensors')).toEqual(FILES[0]);
    expect(parsed).toHaveLength(FILES.length);
  });
});

describe('parseTreeCache', () => {
  const ok = { format_version: 1, files: { a: { size: 1, blob_id: 'x' } } };
  it.each([
    ['unknown format_version', { ...ok, format_version: 2 }],
    ['missing files', { format_version: 1 }],
    ['a short xet hash', { format_version: 1, files: { a: { size: 1, blob_id: 'x', xet_hash: 'abc' } } }],
    ['a non-hex xet hash', { format_version: 1, files: { a: { size: 1, blob_id: 'x', xet_hash: 'g'.repeat(64) } } }],
    ['a missing size', { format_version: 1, files: { a: { blob_id: 'x' } } }],
    ['an array', [ok]],
  ])('rejects %s', (_label, data) => {
    expect(parseTreeCache(data)).toBeUndefined();
  });

  it('accepts a valid file, upper-case xet hashes included (Python accepts them)', () => {
    expect(parseTreeCache({ format_version: 1, files: { a: { size: 1, blob_id: 'x', xet_hash: 'AB'.repeat(32) } } })).toEqual([
      { path: 'a', size: 1, oid: 'x', xetHash: 'AB'.repeat(32) },
    ]);
  });
});
