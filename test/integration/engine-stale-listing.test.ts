/**
 * The engine lists a destination folder once per run for resume journals. Another process may
 * claim a journal after that listing (rename it to its own nonce) and then die: the journal must
 * still be found under its new name and resumed, not the file restarted from 0 (seen in
 * test/cli/crash-storm.test.ts, where the second process of a pair started over).
 */
import { readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTransferEngine } from '../../src/download/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { collectEvents, itemFor, tempDir, testAgent } from '../helpers/transfer-items.js';

const REPO = 'org/stale-listing';
const MB = 1024 * 1024;
const SIZE = 4 * MB;
const emulator = useEmulator({
  repos: [{ id: REPO, revisions: [{ refs: ['main'], files: [{ path: 'big.bin', generated: { size: SIZE, seed: 3 } }, { path: 'small.txt', content: 'hello\n' }] }] }],
});

describe('resume journal claimed by another process after our folder listing', () => {
  it('is still found (under its new nonce) and resumed, not restarted from 0', async () => {
    const dir = await tempDir();
    const big = await emulator().digestOf(REPO, 'big.bin');
    const content = Buffer.alloc(SIZE);
    // The first 3 MiB "downloaded by an earlier run": the real bytes.
    const full = await emulator().contentOf(REPO, 'big.bin');
    full.copy(content, 0, 0, 3 * MB);
    const bigDest = path.join(dir, big.etag);
    const journal = (nonce: string) => `${bigDest}.${nonce}.mlcache-journal`;
    const partial = (nonce: string) => `${bigDest}.${nonce}.incomplete`;
    await writeFile(partial('aaaaaaaa'), content);
    await writeFile(
      journal('aaaaaaaa'),
      JSON.stringify({ format: 'mlcache-journal', version: 1, size: SIZE, digest: { algorithm: 'sha256', hex: big.sha256 }, chunkSize: MB, completed: [[0, 3 * MB]], updatedAt: new Date().toISOString() }),
    );
    const ev = collectEvents();
    const engine = createTransferEngine({ dispatcher: testAgent(), chunkThreshold: MB, chunkSize: MB, connections: 2, onEvent: ev.onEvent });
    const small = await emulator().digestOf(REPO, 'small.txt');
    // This run lists blobs/ while fetching small.txt (same folder)...
    await engine.download(await itemFor(emulator(), { repo: REPO, file: 'small.txt', destination: path.join(dir, small.etag), dispatcher: testAgent() }));
    // ...then another process claims the journal (renames it and its partial to its nonce) and dies.
    await rename(journal('aaaaaaaa'), journal('bbbbbbbb'));
    await rename(partial('aaaaaaaa'), partial('bbbbbbbb'));
    emulator().resetStats();
    const result = await engine.download(await itemFor(emulator(), { repo: REPO, file: 'big.bin', destination: bigDest, dispatcher: testAgent() }));
    await engine.close();
    expect(result.bytesResumed).toBe(3 * MB);
    expect(emulator().stats.bytesServed).toBeLessThanOrEqual(SIZE - 3 * MB);
    expect((await readdir(dir)).sort()).toEqual([big.etag, small.etag].sort());
  });
});
