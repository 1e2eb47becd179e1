/**
 * The resume journal: a small file beside the partial download recording which byte ranges are on
 * disk, so the next run (after Ctrl-C, kill -9 or a reboot) fetches only the rest.
 *
 *   <destination>.<8hex>.incomplete        the partial file
 *   <destination>.<8hex>.mlcache-journal   this journal
 *
 * The 8-hex nonce keeps us off `<destination>.incomplete`, which huggingface_hub v0.23–v1.17
 * opens in append mode and would corrupt (its `file_download.py::_download_to_tmp_and_move`).
 *
 * Format (version 2), append-only so that recording a write batch is one small `write()` and no
 * rename: a header line, then one `[start,end]` line per range of bytes that landed on disk.
 *
 *   {"format":"mlcache-journal","version":2,"size":…,"digest":{…},"chunkSize":…}
 *   [0,524288]
 *   [16777216,17301504]
 *
 * A record is appended only after its bytes were written, so after a kill -9 (the page cache
 * keeps both) every record is true. A torn last line (killed mid-append) is ignored. Version 1
 * journals (one JSON object with `completed`) from earlier releases are still read. Parsing is
 * pure and strict: anything else unexpected means "discard and start over".
 */
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { atomicReplaceFile } from '../util/atomic-write.js';
import { randomHex8 } from '../util/random-suffix.js';
import type { Digest } from './types.js';
import { mergeIntervals, type Interval } from './intervals.js';

export const JOURNAL_VERSION = 2;
export const JOURNAL_SUFFIX = 'mlcache-journal';
export const PARTIAL_SUFFIX = 'incomplete';
const TEMP_SUFFIX = 'tmp';

export interface Journal {
  version: number;
  size: number;
  digest: Digest;
  chunkSize: number;
  /** Completed byte ranges, half-open [start, end), merged and sorted. */
  completed: Interval[];
}

/** The header line (with its newline). */
export function journalHeader(journal: Omit<Journal, 'completed' | 'version'>): string {
  return `${JSON.stringify({
    format: 'mlcache-journal',
    version: JOURNAL_VERSION,
    size: journal.size,
    digest: { algorithm: journal.digest.algorithm, hex: journal.digest.hex.toLowerCase() },
    chunkSize: journal.chunkSize,
  })}\n`;
}

/** One record line: bytes [start, end) are on disk. */
export function journalRecord(start: number, end: number): string {
  return `[${start},${end}]\n`;
}

/** The compact form: the header and one record per merged range. */
export function serializeJournal(journal: Journal): string {
  return journalHeader(journal) + mergeIntervals(journal.completed).map(([s, e]) => journalRecord(s, e)).join('');
}

export type JournalParse = { ok: true; journal: Journal } | { ok: false; reason: string };

const RECORD = /^\[(\d+),(\d+)\]$/;

/**
 * Parse and validate journal text. Never throws. The header's schema (and zod with it, ~90 ms of
 * start-up) loads on the first journal read: a run that resumes nothing never needs it.
 */
export async function parseJournal(text: string): Promise<JournalParse> {
  const { JournalHeaderSchema } = await import('./journal-schema.js');
  const newline = text.indexOf('\n');
  const first = newline < 0 ? text : text.slice(0, newline);
  let raw: unknown;
  try {
    raw = JSON.parse(first);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = JournalHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? `${issue.path.join('.') || 'journal'}: ${issue.message}` : 'invalid' };
  }
  const header = parsed.data;
  const ranges: Interval[] = [];
  if (header.version === 1) {
    if (!header.completed) return { ok: false, reason: 'completed: missing' };
    ranges.push(...header.completed);
  } else if (newline >= 0) {
    const lines = text.slice(newline + 1).split('\n');
    // Only complete lines count: the last element is '' after a final newline, or a torn record.
    lines.pop();
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed === '') continue; // padding left by an in-place rewrite
      const match = RECORD.exec(trimmed);
      if (!match) return { ok: false, reason: `unreadable record "${trimmed.slice(0, 40)}"` };
      ranges.push([Number(match[1]), Number(match[2])]);
    }
  }
  if (!ranges.every(([s, e]) => Number.isSafeInteger(s) && Number.isSafeInteger(e) && s < e && e <= header.size)) {
    return { ok: false, reason: 'completed ranges outside the file' };
  }
  return {
    ok: true,
    journal: { version: header.version, size: header.size, digest: header.digest, chunkSize: header.chunkSize, completed: mergeIntervals(ranges) },
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

/**
 * The nonce a run gives the partial it keeps when it stops holding the blob's lock (a failure,
 * Ctrl-C): a later run finds it with one lookup even when its folder listing predates it.
 */
export const KEPT_NONCE = '00000000';

export function newNonce(): string {
  return randomHex8();
}

export function journalPath(destination: string, nonce: string): string {
  return `${destination}.${nonce}.${JOURNAL_SUFFIX}`;
}

export function partialPath(destination: string, nonce: string): string {
  return `${destination}.${nonce}.${PARTIAL_SUFFIX}`;
}

/** What a folder holds of the engine's own files for one destination name. */
export interface Leftovers {
  /** Nonces with a journal. */
  journals: string[];
  /** Nonces with a partial file. */
  partials: string[];
  /** Names of journal temp files (a compaction killed before its rename). */
  temps: string[];
}

const OWN_FILE = new RegExp(`^(.+)\\.([0-9a-f]{8})\\.(${JOURNAL_SUFFIX}|${PARTIAL_SUFFIX})$`);
const OWN_TEMP = new RegExp(`^(.+)\\.[0-9a-f]{8}\\.${JOURNAL_SUFFIX}\\.[0-9a-f]{8}\\.${TEMP_SUFFIX}$`);

/**
 * Index a folder listing by destination name, in one pass: a lookup per file is then O(1), where
 * scanning the listing per file was O(n²) for a folder of a million blobs. Names that are not
 * the engine's (blobs, huggingface_hub's `<etag>.incomplete`) are skipped.
 */
export function indexLeftovers(names: readonly string[]): Map<string, Leftovers> {
  const index = new Map<string, Leftovers>();
  const entry = (base: string) => {
    let found = index.get(base);
    if (!found) index.set(base, (found = { journals: [], partials: [], temps: [] }));
    return found;
  };
  for (const name of names) {
    if (!name.endsWith(JOURNAL_SUFFIX) && !name.endsWith(PARTIAL_SUFFIX) && !name.endsWith(TEMP_SUFFIX)) continue;
    const own = OWN_FILE.exec(name);
    if (own) {
      const found = entry(own[1]!);
      (own[3] === JOURNAL_SUFFIX ? found.journals : found.partials).push(own[2]!);
      continue;
    }
    const temp = OWN_TEMP.exec(name);
    if (temp) entry(temp[1]!).temps.push(name);
  }
  return index;
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

/** A temp name for rewriting `file` that the engine recognizes as its own (indexLeftovers). */
function journalTempPath(file: string): string {
  return `${file}.${newNonce()}.${TEMP_SUFFIX}`;
}

/** Write the journal atomically in its compact form: a unique temp file, then rename over the old. */
export async function writeJournalFile(file: string, journal: Journal): Promise<void> {
  await atomicReplaceFile(file, serializeJournal(journal), { tempPath: journalTempPath(file) });
}

/**
 * Rewrite an existing journal in place, for a full disk, where `writeJournalFile` cannot create its
 * temp file. The new text is never longer than the file already is (so it lands in blocks the
 * file already owns): when it would be, the smallest ranges after the first are left out (they are
 * fetched again), and the rest is padded with spaces, which the parser skips. A crash mid-write
 * leaves at worst fewer records (the hash check guards the bytes anyway).
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
