/**
 * What `mlcache verify` can find in a cache, as data: each kind's meaning, how bad it is, and
 * what `--repair` does about it. docs/maintenance.md renders the same table. Pure.
 */
import type { CacheRepo } from '../cache/index.js';

export type FindingKind =
  | 'blob-mismatch'
  | 'copy-mismatch'
  | 'blob-missing'
  | 'broken-link'
  | 'ref-trailing-newline'
  | 'ref-missing-snapshot'
  | 'snapshot-incomplete'
  | 'artifact-missing'
  | 'artifact-size'
  | 'artifact-mismatch'
  | 'unreadable'
  | 'entry-missing'
  | 'partial-download'
  | 'orphan-blob'
  | 'cache-warning';

/** damage: the cache is not intact (exit 11); warning: odd but loadable; info: space only. */
export type Severity = 'damage' | 'warning' | 'info';

export interface FindingKindInfo {
  severity: Severity;
  meaning: string;
  repair: string;
}

export const FINDING_KINDS: Readonly<Record<FindingKind, FindingKindInfo>> = {
  'blob-mismatch': {
    severity: 'damage',
    meaning: 'A blob does not hash to its name (sha256 for 64-hex names, git blob sha1 for 40-hex names).',
    repair: 'Deletes the blob and downloads the files that point to it again, at their commit.',
  },
  'copy-mismatch': {
    severity: 'damage',
    meaning: 'A snapshot file stored as a copy (no symlinks) does not hash to what trees/<commit>.json declares.',
    repair: 'Downloads the file again at its commit (the copy is replaced).',
  },
  'blob-missing': {
    severity: 'damage',
    meaning: 'A snapshot symlink points to blobs/<etag>, which does not exist.',
    repair: 'Downloads the file again at its commit; if the Hub no longer has it, removes the pointer.',
  },
  'broken-link': {
    severity: 'damage',
    meaning: 'A snapshot symlink points outside this repo\'s blobs/ to a path that does not exist.',
    repair: 'Downloads the file again at its commit; if the Hub no longer has it, removes the pointer.',
  },
  'ref-trailing-newline': {
    severity: 'damage',
    meaning: 'refs/<name> ends with a newline; huggingface_hub reads refs without stripping, so offline lookups fail.',
    repair: 'Rewrites the ref without the newline (atomically).',
  },
  'ref-missing-snapshot': {
    severity: 'damage',
    meaning: 'refs/<name> names a commit that has no snapshots/<commit>/ folder.',
    repair: 'Downloads the selected files at that commit when a catalog entry selects the repo; otherwise removes the ref.',
  },
  'snapshot-incomplete': {
    severity: 'damage',
    meaning: 'trees/<commit>.json lists a file the selection wants, but the snapshot lacks it (huggingface_hub raises IncompleteSnapshotError offline).',
    repair: 'Downloads the missing files at that commit.',
  },
  'artifact-missing': {
    severity: 'damage',
    meaning: 'A URL artifact of the catalog is not at its destination under TORCH_HOME.',
    repair: 'Downloads it again (sha256-checked).',
  },
  'artifact-size': {
    severity: 'damage',
    meaning: 'A URL artifact has the wrong size.',
    repair: 'Deletes it and downloads it again (sha256-checked).',
  },
  'artifact-mismatch': {
    severity: 'damage',
    meaning: 'A URL artifact does not hash to the catalog\'s sha256.',
    repair: 'Deletes it and downloads it again (sha256-checked).',
  },
  unreadable: {
    severity: 'damage',
    meaning: 'A blob or artifact could not be read (permissions, I/O error).',
    repair: 'Nothing: fix the permissions or the disk, then verify again.',
  },
  'entry-missing': {
    severity: 'warning',
    meaning: 'A selected catalog entry is not in the cache at all (no repo folder, no ref, or no snapshot for the commit).',
    repair: 'Nothing: `mlcache cache-models` downloads it (`mlcache offline-check` fails on it).',
  },
  'partial-download': {
    severity: 'info',
    meaning: 'A partial download (*.incomplete, *.mlcache-journal) sits in blobs/.',
    repair: 'Nothing (a running or later download resumes it); `mlcache prune` removes stale ones.',
  },
  'orphan-blob': {
    severity: 'info',
    meaning: 'A blob that no snapshot points to: it only takes space.',
    repair: 'Nothing; `mlcache prune` removes it.',
  },
  'cache-warning': {
    severity: 'warning',
    meaning: 'Something in the cache folder that huggingface_hub\'s scan_cache_dir reports as corrupted (a stray file, a repo without snapshots/, an unknown repo type).',
    repair: 'Nothing: inspect the path named and remove it by hand if it is not yours.',
  },
};

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** `org/name`, or `dataset:org/name` for non-model repos; a catalog entry name for artifacts. */
  repo: string | undefined;
  /** The path on disk the finding is about. */
  path: string;
  /** Path inside the repo (or the artifact's destination), when there is one. */
  file?: string | undefined;
  commit?: string | undefined;
  /** The ref name (`main`, `refs/pr/1`) for ref findings. */
  ref?: string | undefined;
  /** Snapshot files that resolve to a damaged blob (what --repair downloads again). */
  affected?: Array<{ commit: string; file: string }> | undefined;
  /** One precise sentence: what is wrong, where, with the expected vs actual values. */
  message: string;
  /** What `--repair` does about it. */
  repair: string;
  /** Set by verify --repair: what happened. */
  repaired?: 'fixed' | 'removed' | 'failed' | 'skipped' | undefined;
  repairNote?: string | undefined;
}

export function repoLabel(repo: CacheRepo): string {
  return repo.type === 'model' ? repo.id : `${repo.type}:${repo.id}`;
}

export function finding(kind: FindingKind, fields: Omit<Finding, 'kind' | 'severity' | 'repair'> & { repair?: string }): Finding {
  const info = FINDING_KINDS[kind];
  return { kind, severity: info.severity, ...fields, repair: fields.repair ?? info.repair };
}

/** Whether these findings leave the cache damaged (repaired damage no longer counts). */
export function isIntact(findings: readonly Finding[]): boolean {
  return !findings.some((f) => f.severity === 'damage' && f.repaired !== 'fixed' && f.repaired !== 'removed');
}
