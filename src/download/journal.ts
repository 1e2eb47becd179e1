/**
 * The resume journal: a small JSON file beside the partial download recording which byte ranges
 * are on disk, so the next run (after Ctrl-C, kill -9 or a reboot) fetches only the rest.
 *
 *   <destination>.<8hex>.incomplete        the partial file (preallocated to the full size)
 *   <destination>.<8hex>.mlcache-journal   this journal
 *
 * The 8-hex nonce keeps us off `<destination>.incomplete`, which huggingface_hub v0.23–v1.17
 * opens in append mode and would corrupt (hub-protocol.md §3 "Partial files and resume").
 * Parsing is pure and strict: anything unexpected means "discard and start over".
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from './types.js';
import { mergeIntervals, type Interval } from './intervals.js';

export const JOURNAL_VERSION = 1;
export const JOURNAL_SUFFIX = 'mlcache-journal';
export const PARTIAL_SUFFIX = 'incomplete';

export interface Journal {
  version: number;
  size: number;
  digest: Digest;
  chunkSize: number;
  /** Completed byte ranges, half-open [start, end), merged and sorted. */
  completed: Interval[];
}

export function serializeJournal(journal: Journal): string {
  return `${JSON.stringify({
    format: 'mlcache-journal',
    version: journal.version,
    size: journal.size,
    digest: journal.digest,
    chunkSize: journal.chunkSize,
    completed: mergeIntervals(journal.completed),
    updatedAt: new Date().toISOString(),
  })}\n`;
}

export type JournalParse = { ok: true; journal: Journal } | { ok: false; reason: string };

/**
 * Parse and validate journal text. Never throws. The schema (and zod with it, ~90 ms of start-up)
 * loads on the first journal read: a run that resumes nothing never needs it.
 */
export async function parseJournal(text: string): Promise<JournalParse> {
  const { JournalSchema } = await import('./journal-schema.js');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = JournalSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? `${issue.path.join('.') || 'journal'}: ${issue.message}` : 'invalid' };
  }
  const j = parsed.data;
  return {
    ok: true,
    journal: { version: j.version, size: j.size, digest: j.digest, chunkSize: j.chunkSize, completed: mergeIntervals(j.completed) },
  };
}

/** Whether a journal belongs to the file we are about to download. */
export function journalMatches(journal: Journal, expected: { size: number; digest: Digest }): string | undefined {
  if (journal.size !== expected.size) return `it is for ${journal.size} bytes, not ${expected.size}`;
  if (journal.digest.algorithm !== expected.digest.algorithm || journal.digest.hex !== expected.digest.hex.toLowerCase()) {
    return `it is for a different ${journal.digest.algorithm} digest`;
  }
  return undefined;
}

export function newNonce(): string {
  return randomBytes(4).toString('hex');
}

export function journalPath(destination: string, nonce: string): string {
  return `${destination}.${nonce}.${JOURNAL_SUFFIX}`;
}

export function partialPath(destination: string, nonce: string): string {
  return `${destination}.${nonce}.${PARTIAL_SUFFIX}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Nonces of the journals for `destination` among `names`, a listing of its folder. */
export function journalNoncesAmong(names: readonly string[], destination: string): string[] {
  const base = path.basename(destination);
  const pattern = new RegExp(`^${escapeRegExp(base)}\\.([0-9a-f]{8})\\.${JOURNAL_SUFFIX}$`);
  // blobs/ holds every blob of a repo: a prefix test first keeps the regex off unrelated names.
  const prefix = `${base}.`;
  const out: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = pattern.exec(name);
    if (match?.[1]) out.push(match[1]);
  }
  return out;
}

/** The names in `dir`, or none when it cannot be read (no folder yet: nothing to resume). */
export async function listFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function readJournalFile(file: string): Promise<JournalParse | undefined> {
  try {
    return await parseJournal(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { ok: false, reason: `unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** Write the journal atomically: a unique temp file, then rename over the old journal. */
export async function writeJournalFile(file: string, journal: Journal): Promise<void> {
  const temp = `${file}.${newNonce()}.tmp`;
  try {
    await writeFile(temp, serializeJournal(journal));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Rewrite an existing journal in place, for a full disk, where `writeJournalFile` cannot create its
 * temp file. The new text is never longer than the file already is (so it lands in blocks the
 * file already owns): when it would be, the smallest ranges after the first are left out (they are
 * fetched again), and the rest is padded with spaces, which JSON allows. A crash mid-write leaves
 * text that does not parse, which the next run discards (the hash check guards the bytes anyway).
 * Returns false when even the shortest form does not fit.
 */
export async function overwriteJournalInPlace(file: string, journal: Journal): Promise<boolean> {
  const handle = await open(file, 'r+');
  try {
    const room = (await handle.stat()).size;
    const ranges = mergeIntervals(journal.completed);
    let text = serializeJournal({ ...journal, completed: ranges });
    while (Buffer.byteLength(text) > room && ranges.length > 1) {
      let smallest = 1;
      for (let i = 2; i < ranges.length; i++) if (ranges[i]![1] - ranges[i]![0] < ranges[smallest]![1] - ranges[smallest]![0]) smallest = i;
      ranges.splice(smallest, 1);
      text = serializeJournal({ ...journal, completed: ranges });
    }
    const bytes = Buffer.from(text);
    if (bytes.length > room) return false;
    const padded = Buffer.alloc(room, 0x20);
    bytes.copy(padded);
    padded[room - 1] = 0x0a;
    await handle.write(padded, 0, room, 0);
    return true;
  } finally {
    await handle.close();
  }
}

export type ClaimResult = 'claimed' | 'taken' | 'no-partial';

/**
 * Take over another run's journal + partial by renaming both to our nonce. rename() is atomic, so
 * when two processes race for the same journal exactly one wins; the loser sees ENOENT ('taken').
 */
export async function claimJournal(destination: string, fromNonce: string, toNonce: string): Promise<ClaimResult> {
  try {
    await rename(journalPath(destination, fromNonce), journalPath(destination, toNonce));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'taken';
    throw error;
  }
  try {
    await rename(partialPath(destination, fromNonce), partialPath(destination, toNonce));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no-partial';
    throw error;
  }
  return 'claimed';
}

/** Remove a partial file and its journal (missing files are fine). */
export async function removePartial(destination: string, nonce: string): Promise<void> {
  await Promise.all([
    rm(journalPath(destination, nonce), { force: true }),
    rm(partialPath(destination, nonce), { force: true }),
  ]);
}
