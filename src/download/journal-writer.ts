/**
 * Keeps one partial file's journal true while it fills: created (header only) before the partial
 * itself, so no partial ever exists that a later run could not adopt; then one record appended per
 * write batch that landed (coalesced while an append is in flight), and compacted by temp + rename
 * when it grows long. No timer and no rename per record: a kill -9 loses only the batches whose
 * write had not returned yet (docs/download.md, "Interrupt hygiene").
 *
 * Appends are not fsync'ed: a kill keeps the page cache; a power cut can leave a record whose bytes
 * never reached the disk, which the hash check catches (one re-fetch, never a wrong blob).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { mergeIntervals, type Interval } from './intervals.js';
import { JOURNAL_VERSION, journalHeader, journalRecord, overwriteJournalInPlace, writeJournalFile, type Journal } from './journal.js';

/** Compact (rewrite as merged ranges) once this many records were appended. */
const COMPACT_AFTER_RECORDS = 4096;

export interface JournalWriter {
  /** Bytes [start, end) are on disk: append a record (asynchronously, in order). */
  record(start: number, end: number): void;
  /** Wait until every record so far is written (or its write failed). */
  flush(): Promise<void>;
  /**
   * After the file failed: make the journal say what is on disk whatever it takes. Appends that
   * failed (a full disk) are replaced by a rewrite: temp + rename, else in place within the
   * journal's own blocks. Returns the error if even that failed.
   */
  saveOnFailure(onDisk: readonly Interval[]): Promise<unknown>;
  close(): Promise<void>;
}

export interface JournalWriterOptions {
  path: string;
  journal: Omit<Journal, 'version' | 'completed'>;
  /** Ranges an earlier run recorded (a claimed journal): rewritten compactly, then appended to. */
  resumed?: readonly Interval[] | undefined;
}

/**
 * Create the journal (a new one with `wx`, or a claimed one rewritten in compact form) and return
 * its writer. Throws the fs error when the journal cannot be made: the caller must not create the
 * partial then.
 */
export async function openJournalWriter(options: JournalWriterOptions): Promise<JournalWriter> {
  const { path: file } = options;
  const meta = options.journal;
  let recorded: Interval[] = [...(options.resumed ?? [])];
  let handle: FileHandle;
  if (options.resumed) {
    await writeJournalFile(file, { ...meta, version: JOURNAL_VERSION, completed: recorded });
    handle = await open(file, 'a');
  } else {
    handle = await open(file, 'ax');
    try {
      await handle.write(journalHeader(meta));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  let queued = '';
  let appended = 0;
  let chain: Promise<void> = Promise.resolve();
  let busy = false;
  let error: unknown;
  let closed = false;

  const compact = async () => {
    // Everything recorded so far, including what is still queued: the queue is covered.
    queued = '';
    recorded = mergeIntervals(recorded);
    await writeJournalFile(file, { ...meta, version: JOURNAL_VERSION, completed: recorded });
    // The rename replaced the file: appends must go to the new one.
    await handle.close();
    handle = await open(file, 'a');
    appended = 0;
  };

  const pump = () => {
    if (busy || closed || error !== undefined || queued === '') return;
    busy = true;
    chain = (async () => {
      try {
        while (queued !== '' && error === undefined && !closed) {
          const text = queued;
          queued = '';
          await handle.write(text);
          if (appended >= COMPACT_AFTER_RECORDS) await compact();
        }
      } catch (failure) {
        error = failure;
      } finally {
        busy = false;
      }
    })();
  };

  return {
    record(start, end) {
      if (closed || error !== undefined || end <= start) return;
      recorded.push([start, end]);
      queued += journalRecord(start, end);
      appended++;
      pump();
    },
    async flush() {
      await chain;
    },
    async saveOnFailure(onDisk) {
      await chain;
      if (error === undefined && queued === '') return undefined;
      const journal: Journal = { ...meta, version: JOURNAL_VERSION, completed: mergeIntervals(onDisk) };
      try {
        await writeJournalFile(file, journal);
        return undefined;
      } catch (rewrite) {
        try {
          if (await overwriteJournalInPlace(file, journal)) return undefined;
          return rewrite;
        } catch {
          return rewrite;
        }
      }
    },
    async close() {
      await chain;
      closed = true;
      await handle.close().catch(() => undefined);
    },
  };
}
