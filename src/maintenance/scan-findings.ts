/**
 * Findings that a cache scan alone reveals (no hashing): broken pointers, bad refs, leftovers, and
 * what huggingface_hub's scan_cache_dir would call corrupted. Pure: scan in, findings out.
 */
import path from 'node:path';
import type { CacheScan, CacheWarningCode, ScannedRepo } from '../cache/index.js';
import { finding, repoLabel, type Finding } from './findings.js';

/** Scan warnings that a finding below already describes more precisely. */
const COVERED: ReadonlySet<CacheWarningCode> = new Set(['BROKEN_LINK', 'REF_TRAILING_NEWLINE', 'REF_TO_MISSING_COMMIT']);

export interface ScanFindingsOptions {
  /** Only these repo folders (default: every repo). Root-level warnings are kept only without a filter. */
  folders?: ReadonlySet<string> | undefined;
}

export function findingsFromScan(scan: CacheScan, options: ScanFindingsOptions = {}): Finding[] {
  const out: Finding[] = [];
  const repos = scan.repos.filter((r) => options.folders === undefined || options.folders.has(r.folder));
  for (const repo of repos) out.push(...repoFindings(repo));
  for (const w of scan.warnings) {
    if (COVERED.has(w.code)) continue;
    if (options.folders !== undefined && (w.folder === undefined || !options.folders.has(w.folder))) continue;
    out.push(finding('cache-warning', { repo: w.folder, path: w.path, message: w.message }));
  }
  return out;
}

function repoFindings(repo: ScannedRepo): Finding[] {
  const out: Finding[] = [];
  const label = repoLabel(repo.repo);
  const commits = new Set(repo.revisions.map((r) => r.commit));

  for (const rev of repo.revisions) {
    for (const f of rev.files) {
      if (!f.broken) continue;
      if (f.blobName !== undefined) {
        out.push(
          finding('blob-missing', {
            repo: label,
            path: f.fullPath,
            file: f.path,
            commit: rev.commit,
            message: `${label}@${rev.commit.slice(0, 12)}: ${f.path} points to blobs/${f.blobName}, which does not exist.`,
          }),
        );
      } else {
        out.push(
          finding('broken-link', {
            repo: label,
            path: f.fullPath,
            file: f.path,
            commit: rev.commit,
            message: `${label}@${rev.commit.slice(0, 12)}: ${f.path} is a dangling symlink to ${f.linkTarget ?? '?'} (not a blob of this repo).`,
          }),
        );
      }
    }
  }

  for (const ref of repo.refs) {
    if (commits.has(ref.raw)) continue;
    const file = path.join(repo.path, 'refs', ...ref.name.split('/'));
    const trimmed = ref.raw.trim();
    if (ref.trailingNewline && commits.has(trimmed)) {
      out.push(
        finding('ref-trailing-newline', {
          repo: label,
          path: file,
          commit: trimmed,
          ref: ref.name,
          message: `${label}: refs/${ref.name} is ${JSON.stringify(ref.raw)} with a trailing newline; huggingface_hub reads it raw and looks for a snapshot that does not exist.`,
        }),
      );
    } else {
      out.push(
        finding('ref-missing-snapshot', {
          repo: label,
          path: file,
          commit: ref.commit ?? (/^[0-9a-f]{40}$/.test(trimmed) ? trimmed : undefined),
          ref: ref.name,
          message: `${label}: refs/${ref.name} points to ${JSON.stringify(ref.raw)}, but there is no snapshots/${trimmed}/.`,
        }),
      );
    }
  }

  for (const p of repo.partialFiles) {
    out.push(
      finding('partial-download', {
        repo: label,
        path: p.path,
        message: `${label}: partial download blobs/${p.name} (${p.size} bytes, last written ${new Date(p.mtimeMs).toISOString()}).`,
      }),
    );
  }
  for (const b of repo.blobs) {
    if (b.referenced) continue;
    out.push(
      finding('orphan-blob', {
        repo: label,
        path: b.path,
        message: `${label}: blobs/${b.name} (${b.size} bytes) is not used by any snapshot.`,
      }),
    );
  }
  return out;
}
