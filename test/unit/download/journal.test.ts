import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  claimJournal,
  indexLeftovers,
  journalHeader,
  journalMatches,
  journalRecord,
  journalPath,
  listFolder,
  overwriteJournalInPlace,
  parseJournal,
  partialPath,
  readJournalFile,
  serializeJournal,
  writeJournalFile,
  type Journal,
} from '../../../src/download/journal.js';

const digest = { algorithm: 'sha256' as const, hex: 'ab'.repeat(32) };
const journal: Journal = { version: 2, size: 1000, digest, chunkSize: 100, completed: [[200, 300], [0, 100], [100, 150]] };
const header = () => JSON.parse(journalHeader(journal)) as Record<string, unknown>;
const v1 = (fields: Record<string, unknown>) => JSON.stringify({ ...header(), version: 1, completed: [[0, 100]], ...fields });

describe('journal parse/serialize', () => {
  it('round-trips and merges the completed ranges', async () => {
    const parsed = await parseJournal(serializeJournal(journal));
    expect(parsed).toEqual({ ok: true, journal: { ...journal, completed: [[0, 150], [200, 300]] } });
  });

  it('reads appended records, ignores a torn last line and padding, and still reads version 1', async () => {
    const text = `${journalHeader(journal)}${journalRecord(0, 100)}${journalRecord(300, 400)}   \n${journalRecord(100, 200)}[400,5`;
    expect(await parseJournal(text)).toMatchObject({ ok: true, journal: { completed: [[0, 200], [300, 400]] } });
    // A header alone (a partial just created) is a valid, empty journal.
    expect(await parseJournal(journalHeader(journal))).toMatchObject({ ok: true, journal: { completed: [] } });
    expect(await parseJournal(v1({ completed: [[0, 100], [100, 250]] }))).toMatchObject({ ok: true, journal: { version: 1, completed: [[0, 250]] } });
  });

  it.each([
    ['truncated JSON', '{"format":"mlcache-journal",', /not valid JSON/],
    ['wrong format tag', JSON.stringify({ ...header(), format: 'other' }), /format/],
    ['future version', JSON.stringify({ ...header(), version: 3 }), /version/],
    ['range past the end (v2)', `${journalHeader(journal)}[0,1001]\n`, /outside/],
    ['empty range (v2)', `${journalHeader(journal)}[5,5]\n`, /outside/],
    ['garbage record in the middle', `${journalHeader(journal)}[0,10]\nxx\n[10,20]\n`, /unreadable record/],
    ['range past the end (v1)', v1({ completed: [[0, 1001]] }), /outside/],
    ['v1 without ranges', v1({ completed: undefined }), /completed/],
    ['bad digest', JSON.stringify({ ...header(), digest: { algorithm: 'md5', hex: 'x' } }), /digest/],
  ])('rejects %s', async (_name, text, reason) => {
    const parsed = await parseJournal(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('matches only the same size and digest', () => {
    expect(journalMatches(journal, { size: 1000, digest })).toBeUndefined();
    expect(journalMatches(journal, { size: 999, digest })).toMatch(/1000 bytes/);
    expect(journalMatches(journal, { size: 1000, digest: { algorithm: 'sha256', hex: 'cd'.repeat(32) } })).toMatch(/different/);
    expect(journalMatches(journal, { size: 1000, digest: { algorithm: 'git-sha1', hex: 'ab'.repeat(20) } })).toMatch(/different/);
  });
});

describe('journal files', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds journals of this destination only and claims one atomically', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-journal-'));
    const dest = path.join(dir, 'blob');
    await writeJournalFile(journalPath(dest, '0000aaaa'), journal);
    await writeFile(partialPath(dest, '0000aaaa'), Buffer.alloc(1000));
    await writeFile(path.join(dir, 'blob.incomplete'), 'python partial');
    await writeFile(path.join(dir, 'blobby.1111bbbb.mlcache-journal'), '{}');
    expect(indexLeftovers(await listFolder(dir)).get('blob')?.journals).toEqual(['0000aaaa']);
    await writeFile(`${journalPath(dest, '0000aaaa')}.1234abcd.tmp`, 'x');
    const index = indexLeftovers(await listFolder(dir));
    // Python's `<etag>.incomplete` is never the engine's; a compaction temp is.
    expect(index.get('blob')).toEqual({ journals: ['0000aaaa'], partials: ['0000aaaa'], temps: ['blob.0000aaaa.mlcache-journal.1234abcd.tmp'] });
    expect(index.get('blobby')).toEqual({ journals: ['1111bbbb'], partials: [], temps: [] });
    await rm(`${journalPath(dest, '0000aaaa')}.1234abcd.tmp`);
    expect(await listFolder(path.join(dir, 'missing'))).toEqual([]);

    expect(await claimJournal(dest, '0000aaaa', '1234abcd')).toBe('claimed');
    expect(await claimJournal(dest, '0000aaaa', '99999999')).toBe('taken');
    expect((await readdir(dir)).sort()).toEqual(['blob.1234abcd.incomplete', 'blob.1234abcd.mlcache-journal', 'blob.incomplete', 'blobby.1111bbbb.mlcache-journal']);
    const read = await readJournalFile(journalPath(dest, '1234abcd'));
    expect(read?.ok).toBe(true);
  });

  it('reports a claimed journal without its partial file', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-journal-'));
    const dest = path.join(dir, 'blob');
    await writeJournalFile(journalPath(dest, '0000aaaa'), journal);
    expect(await claimJournal(dest, '0000aaaa', '1234abcd')).toBe('no-partial');
  });

  it('atomic writes leave no temp files behind', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-journal-'));
    const file = journalPath(path.join(dir, 'x'), 'abcdef12');
    for (let i = 0; i < 5; i++) await writeJournalFile(file, { ...journal, completed: [[0, i * 10 + 10]] });
    expect(await readdir(dir)).toEqual(['x.abcdef12.mlcache-journal']);
    const read = await readJournalFile(file);
    expect(read).toMatchObject({ ok: true, journal: { completed: [[0, 50]] } });
  });

  it('rewrites in place within the file\'s current length, dropping the smallest later ranges when needed', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-journal-'));
    const file = journalPath(path.join(dir, 'x'), 'abcdef12');
    await writeJournalFile(file, { ...journal, completed: [[0, 100], [500, 600]] });
    const room = (await stat(file)).size;
    // Shorter: fits, padded with whitespace to the same length, still valid JSON.
    expect(await overwriteJournalInPlace(file, { ...journal, completed: [[0, 400]] })).toBe(true);
    expect((await stat(file)).size).toBe(room);
    expect(await readJournalFile(file)).toMatchObject({ ok: true, journal: { completed: [[0, 400]] } });
    // Longer: the smallest ranges after the first go until it fits; the prefix always stays.
    const many: Array<[number, number]> = [[0, 300], [310, 311], [320, 400], [410, 412], [420, 425]];
    expect(await overwriteJournalInPlace(file, { ...journal, completed: many })).toBe(true);
    expect((await stat(file)).size).toBe(room);
    const read = await readJournalFile(file);
    expect(read?.ok).toBe(true);
    const kept = read?.ok ? read.journal.completed : [];
    expect(kept[0]).toEqual([0, 300]);
    expect(kept.length).toBeLessThan(many.length);
    expect(kept).toContainEqual([320, 400]);
    expect(kept).not.toContainEqual([310, 311]);
    // Nowhere near fitting: refused, the file untouched.
    await writeFile(file, '{}');
    expect(await overwriteJournalInPlace(file, journal)).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('{}');
  });
});
