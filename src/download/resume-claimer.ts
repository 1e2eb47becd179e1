/**
 * Adopt or discard what earlier runs left for a destination: the one place that decides what
 * happens to partial files (docs/download.md, "Interrupt hygiene").
 *
 * Each destination folder (a repo's blobs/) is listed once per run and indexed by destination name
 * (journal.ts `indexLeftovers`), so a lookup per file is O(1) however many blobs the folder holds.
 * For one destination, the partial with the most journaled bytes that is consistent (its journal
 * parses, is for this size and digest, and claims nothing past the partial's end) is adopted.
 * When the caller holds the destination's lock (`exclusive`) it is adopted in place, and every
 * other journal, partial and journal temp of that destination is removed:
 * nobody else may be writing them, so they can only be the debris of dead runs, and at most one
 * partial per blob stays on disk. Without the lock it is claimed by an atomic rename to the new
 * run's nonce (of two racing processes exactly one wins), and only journals that cannot belong to
 * this destination are removed; a partial without a journal may be another live process's.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { totalLength, type Interval } from './intervals.js';
import {
  claimJournal,
  indexLeftovers,
  journalMatches,
  journalPath,
  KEPT_NONCE,
  listFolder,
  partialPath,
  readJournalFile,
  removePartial,
  type Leftovers,
} from './journal.js';
import type { Digest } from './types.js';

export interface ClaimRequest {
  destination: string;
  size: number;
  digest: Digest;
  label: string;
  /** The new run's nonce: a claimed partial is renamed to it. */
  nonce: string;
  /** The caller holds the destination's lock: remove every other leftover. */
  exclusive: boolean;
}

export interface Claimed {
  /** The nonce the adopted partial now has: the request's, or (under the lock) the one it had. */
  nonce: string;
  /** The ranges on disk in it; [] when nothing was adopted. */
  completed: Interval[];
}

export interface ResumeClaimer {
  claim(request: ClaimRequest): Promise<Claimed>;
  /** Forget a folder's listing (another process may have left files there since it was read). */
  relist(destination: string): void;
  /** This run kept a partial under `nonce` (a failed file): a later attempt in this run finds it. */
  kept(destination: string, nonce: string): void;
  /** Remove everything left for a destination that is complete (nothing there can be used). */
  sweep(destination: string): Promise<void>;
}

interface Candidate {
  nonce: string;
  completed: Interval[];
  bytes: number;
}

export function createResumeClaimer(warn: (message: string) => void): ResumeClaimer {
  const folders = new Map<string, Promise<Map<string, Leftovers>>>();

  const leftoversOf = async (destination: string): Promise<Leftovers | undefined> => {
    const dir = path.dirname(destination);
    let index = folders.get(dir);
    if (!index) folders.set(dir, (index = listFolder(dir).then(indexLeftovers)));
    const all = await index;
    const base = path.basename(destination);
    const found = all.get(base);
    // Each destination's leftovers are handled once: taken out of the index.
    all.delete(base);
    return found;
  };

  /** A journal worth claiming, or undefined (and why, when it must go). */
  const inspect = async (request: ClaimRequest, nonce: string): Promise<Candidate | { discard: string } | undefined> => {
    const parsed = await readJournalFile(journalPath(request.destination, nonce));
    if (!parsed) return undefined; // claimed by someone else since the listing
    const mismatch = parsed.ok ? journalMatches(parsed.journal, { size: request.size, digest: request.digest }) : parsed.reason;
    if (!parsed.ok || mismatch) return { discard: `its resume journal is unusable (${mismatch})` };
    let partialSize: number;
    try {
      partialSize = (await stat(partialPath(request.destination, nonce))).size;
    } catch {
      return { discard: 'its partial file is missing' };
    }
    const completed = parsed.journal.completed;
    // Nothing recorded: nothing to adopt (a run killed before its first batch landed).
    if (completed.length === 0) return { discard: '' };
    const end = completed.at(-1)?.[1] ?? 0;
    if (partialSize > request.size || end > partialSize) return { discard: `its partial file has the wrong size (${partialSize})` };
    return { nonce, completed, bytes: totalLength(completed) };
  };

  const removeAll = async (destination: string, leftovers: Leftovers, keep: string | undefined) => {
    const nonces = new Set([...leftovers.journals, ...leftovers.partials]);
    nonces.delete(keep ?? '');
    await Promise.all([
      ...[...nonces].map((n) => removePartial(destination, n).catch(() => undefined)),
      ...leftovers.temps.map((name) => rm(path.join(path.dirname(destination), name), { force: true }).catch(() => undefined)),
    ]);
  };

  return {
    async claim(request) {
      // A journal that vanished or was claimed since this run listed the folder means another
      // process (perhaps killed since) renamed it to its own nonce: the folder is listed again, once.
      const none: Claimed = { nonce: request.nonce, completed: [] };
      for (let listing = 0; listing < 2; listing++) {
        const leftovers = (await leftoversOf(request.destination)) ?? { journals: [], partials: [], temps: [] };
        // A partial kept by a run that stopped cleanly after this run listed the folder (and
        // released its lock before this run asked for it) has a fixed nonce: one lookup finds it.
        const probeKept = !leftovers.journals.includes(KEPT_NONCE);
        if (probeKept) leftovers.journals.push(KEPT_NONCE);
        let stale = false;
        const candidates: Candidate[] = [];
        for (const nonce of leftovers.journals) {
          const found = await inspect(request, nonce);
          if (!found) {
            if (!(probeKept && nonce === KEPT_NONCE)) stale = true;
            continue;
          }
          if ('discard' in found) {
            if (found.discard) warn(`Discarded a partial download of ${request.label}: ${found.discard}; starting the file over.`);
            await removePartial(request.destination, nonce).catch(() => undefined);
            continue;
          }
          candidates.push(found);
        }
        candidates.sort((a, b) => b.bytes - a.bytes);
        if (request.exclusive) {
          // Holding the lock, nobody else can claim it: adopt the best in place, with no rename
          // (two renames are a window in which a kill would separate a partial from its journal).
          const best = candidates[0];
          await removeAll(request.destination, leftovers, best?.nonce);
          return best ? { nonce: best.nonce, completed: best.completed } : none;
        }
        let chosen: Candidate | undefined;
        for (const candidate of candidates) {
          const claim = await claimJournal(request.destination, candidate.nonce, request.nonce);
          if (claim === 'claimed') {
            chosen = candidate;
            break;
          }
          if (claim === 'taken') stale = true;
          else await removePartial(request.destination, request.nonce).catch(() => undefined);
        }
        if (chosen) return { nonce: request.nonce, completed: chosen.completed };
        if (!stale) return none;
        folders.delete(path.dirname(request.destination));
      }
      return none;
    },
    relist(destination) {
      folders.delete(path.dirname(destination));
    },
    kept(destination, nonce) {
      const dir = path.dirname(destination);
      const index = folders.get(dir);
      if (!index) return; // listed afresh when needed
      const base = path.basename(destination);
      folders.set(
        dir,
        index.then((all) => {
          const entry = all.get(base) ?? { journals: [], partials: [], temps: [] };
          entry.journals.push(nonce);
          entry.partials.push(nonce);
          all.set(base, entry);
          return all;
        }),
      );
    },
    async sweep(destination) {
      const leftovers = await leftoversOf(destination);
      if (leftovers) await removeAll(destination, leftovers, undefined);
    },
  };
}
