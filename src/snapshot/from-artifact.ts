/**
 * A registry artifact (or an OCI layout's manifest) as a snapshot: who it is (repo, ref, commit),
 * the file list the planner takes (raw layers, each one blob), and the unpacking of tar layers into
 * blobs and snapshot links. Shared by `pull` and `import`, so both write exactly what `download`
 * writes for the same files.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import * as fzstd from 'fzstd';
import { extract as tarExtract } from 'tar-stream';
import { blobPath, commitBlob, ensureRepoDirs, linkSnapshotFile, makeDirectory, repoPaths, repoTempName, validateRepoFilePath, validateRevisionName } from '../cache/index.js';
import { isMlcacheError, MlcacheError } from '../errors.js';
import { parseRepoId } from '../hub/index.js';
import type { RepoFile, RepoRef, RepoType } from '../hub/types.js';
import type { ArtifactArchive, ArtifactContents } from '../modelpack/read-artifact.js';
import { isCommitHash } from '../util/commit-hash.js';
import { cutValue } from '../util/cut-value.js';

export interface ArtifactIdentity {
  repo: RepoRef;
  /** The ref to write (`refs/<revision>`), or the commit itself (no ref). */
  revision: string;
  commit: string;
  /** Where each field came from, for `--dry-run` and messages. */
  commitFrom: 'annotation' | 'config' | 'manifest-digest';
}

export interface IdentityHints {
  /** --repo / --repo-type / --revision given by the user: they win. */
  repoId?: string | undefined;
  repoType?: RepoType | undefined;
  revision?: string | undefined;
  /** The registry repository (`models/org/name`): its last two parts name the repo when nothing else does. */
  repository: string;
  tag?: string | undefined;
  /** `sha256:…` of the manifest. */
  manifestDigest: string;
  /** From a ModelPack config (descriptor.name / descriptor.revision), for artifacts other tools pushed. */
  config?: { name?: string | undefined; revision?: string | undefined } | undefined;
}

/**
 * The repo id, ref and commit a pulled artifact is cached under: the user's flags, else mlcache's
 * annotations, else a ModelPack config, else the registry name and tag. An artifact with no commit
 * (another tool's) gets one derived from its manifest digest (its first 40 hex), so the same
 * artifact always lands in the same snapshot folder.
 */
export function artifactIdentity(contents: ArtifactContents, hints: IdentityHints): ArtifactIdentity {
  const fromName = hints.repository.split('/').slice(-2).join('/');
  const configName = hints.config?.name !== undefined && isValidRepoId(hints.config.name) ? hints.config.name : undefined;
  const id = hints.repoId ?? contents.repoId ?? configName ?? fromName;
  let repo: RepoRef;
  try {
    repo = parseRepoId(id, hints.repoType ?? contents.repoType ?? 'model');
  } catch (error) {
    // The user's --repo is theirs to fix; a name from the artifact is the artifact's fault.
    if (hints.repoId !== undefined) throw error;
    throw new MlcacheError('ARTIFACT_INVALID', `The artifact names its model "${cutValue(id)}", which is not a valid repo id.`, {
      hint: 'Pull it with --repo org/name to choose the name it is cached under.',
      cause: error,
    });
  }
  const configCommit = hints.config?.revision !== undefined && isCommitHash(hints.config.revision) ? hints.config.revision : undefined;
  const commit = contents.commit ?? configCommit ?? hints.manifestDigest.replace(/^sha256:/, '').slice(0, 40);
  const commitFrom = contents.commit ? 'annotation' : configCommit ? 'config' : 'manifest-digest';
  const revision = hints.revision ?? contents.ref ?? hints.tag ?? commit;
  // It becomes refs/<revision> once everything landed: a hostile name fails now, before any byte.
  try {
    validateRevisionName(revision);
  } catch (error) {
    if (hints.revision !== undefined || !isMlcacheError(error)) throw error;
    throw new MlcacheError(error.code, `The artifact names its revision "${cutValue(revision)}", which cannot be a ref: ${error.message}`, {
      hint: 'Nothing was fetched. Pull it with --revision NAME to choose the ref, or report the artifact to its publisher.',
      cause: error,
    });
  }
  return { repo, revision, commit, commitFrom };
}

function isValidRepoId(text: string): boolean {
  try {
    parseRepoId(text);
    return true;
  } catch {
    return false;
  }
}

export interface ArtifactTree {
  /** The commit's tree as far as it is known: the layers' files, plus the files the pusher left out. */
  tree: RepoFile[];
  /** The files the artifact carries (pull fetches exactly these). */
  carried: string[];
  /** 'artifact' when the layers are the whole commit (trees/<commit>.json is written), else 'subset'. */
  treeSource: 'artifact' | 'subset';
  /** The layer digest (sha256 hex) of each blob name the plan will use. */
  layerOf: Map<string, string>;
}

/**
 * The planner's file list for the raw layers. A file the pusher described (mlcache's annotation)
 * keeps its Hub identity: a regular file's blob is its git blob sha1 and an LFS file's its sha256,
 * exactly as `download` names them. Any other file is cached under its sha256, as an LFS file is.
 */
export function artifactTree(contents: ArtifactContents): ArtifactTree {
  const layerOf = new Map<string, string>();
  const tree: RepoFile[] = contents.files.map((file) => {
    if (file.hub && !file.hub.lfs) {
      layerOf.set(file.hub.blobId, file.sha256);
      return { path: file.path, size: file.size, oid: file.hub.blobId, xetHash: file.hub.xetHash };
    }
    layerOf.set(file.sha256, file.sha256);
    return { path: file.path, size: file.size, oid: file.hub?.blobId ?? '', lfs: { oid: file.sha256, size: file.size }, xetHash: file.hub?.xetHash };
  });
  const carried = tree.map((f) => f.path);
  for (const other of contents.otherFiles) {
    tree.push({ path: other.path, size: other.size, oid: other.blobId, lfs: other.lfsSha256 ? { oid: other.lfsSha256, size: other.size } : undefined, xetHash: other.xetHash });
  }
  return { tree, carried, treeSource: contents.complete ? 'artifact' : 'subset', layerOf };
}

/** How much a compressed layer may expand: 64× its size plus 64 MiB. */
const MAX_EXPANSION = 64;
const EXPANSION_ALLOWANCE = 64 * 1024 * 1024;

export interface UnpackedFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Unpack a downloaded tar layer (after its digest was verified) into the cache: each regular file
 * becomes a blob named by its sha256 and a snapshot link at the entry's path. Entry names are
 * untrusted like any listing: `..`, absolute paths and the rest are refused; directories are
 * implied by files; links and devices are refused. Streams: a 40 GB layer never sits in memory.
 */
export async function unpackArchive(
  ctx: { cacheDir: string; repo: RepoRef; commit: string; copy: boolean; signal?: AbortSignal | undefined },
  archive: ArtifactArchive,
  archiveFile: string,
  seenPaths: Set<string>,
): Promise<UnpackedFile[]> {
  await ensureRepoDirs(ctx.cacheDir, ctx.repo);
  const tempDir = repoPaths(ctx.cacheDir, ctx.repo).tempDir;
  await makeDirectory(tempDir);
  const unpacked: UnpackedFile[] = [];
  // A layer may expand, never explode: text compresses ~10×, weights barely; a gzip or zstd bomb
  // (1 MB → 1 GB) is refused before it fills the disk.
  const maxBytes = archive.compression === 'none' ? archive.size : archive.size * MAX_EXPANSION + EXPANSION_ALLOWANCE;
  let total = 0;
  const extract = tarExtract();
  const source = createReadStream(archiveFile);
  const inflate = decompressor(archive.compression);
  const piped = inflate ? pipeline(source, inflate, extract, { signal: ctx.signal }) : pipeline(source, extract, { signal: ctx.signal });
  const feeding = piped.catch((error: unknown) => {
    extract.destroy(error as Error);
    throw error;
  });
  // The feeding may fail while an entry is being written (its error travels both ways): it is
  // awaited below, but must not count as unhandled in between.
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const name = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (header.type === 'directory' || name === '' || header.type === 'pax-global-header') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        throw new MlcacheError('UNSAFE_PATH', `Layer ${archive.label} holds "${cutValue(name)}" as a ${header.type ?? 'special'} entry; only regular files are unpacked.`, {
          hint: 'Nothing outside the cache was touched. Push the model again without links, or ask its publisher to.',
        });
      }
      try {
        validateRepoFilePath(name);
      } catch (error) {
        throw new MlcacheError('UNSAFE_PATH', `Layer ${archive.label} holds an unsafe file name: ${(error as Error).message}`, {
          hint: 'Nothing outside the cache was touched; the artifact is hostile or broken: report it to its publisher.',
          cause: error,
        });
      }
      if (seenPaths.has(name)) {
        throw new MlcacheError('ARTIFACT_INVALID', `The artifact holds "${cutValue(name)}" twice (layer ${archive.label}).`, {
          hint: 'Push the model again with a working tool; nothing was linked under that name twice.',
        });
      }
      seenPaths.add(name);
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          total += chunk.length;
          if (total > maxBytes) {
            done(
              new MlcacheError('ARTIFACT_INVALID', `Layer ${archive.label} expands to more than ${maxBytes} bytes from ${archive.size}: it looks like a decompression bomb.`, {
                hint: 'Do not use this artifact; report it to its publisher. No ref was written, so the snapshot is not claimed complete.',
              }),
            );
            return;
          }
          done(null, chunk);
        },
      });
      // The entry's stream can be read once: the temp folder exists before it is piped.
      const temp = path.join(tempDir, repoTempName('unpack'));
      try {
        await pipeline(entry, counter, createWriteStream(temp, { flags: 'wx' }), { signal: ctx.signal });
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const sha256 = hash.digest('hex');
      await commitBlob(temp, blobPath(ctx.cacheDir, ctx.repo, sha256));
      await linkSnapshotFile(ctx.cacheDir, ctx.repo, ctx.commit, name, sha256, { copy: ctx.copy });
      unpacked.push({ path: name, size, sha256 });
    }
    await feeding;
  } catch (error) {
    source.destroy();
    await feeding.catch(() => undefined);
    throw asLayerError(error, archive);
  }
  return unpacked;
}

function decompressor(compression: ArtifactArchive['compression']): Transform | undefined {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') return zstdDecompressor();
  return undefined;
}

/** zstd: Node's own where it has one (22.15+), else fzstd (pure JavaScript, streaming). */
function zstdDecompressor(): Transform {
  const native = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  if (typeof native === 'function') return native();
  let push: ((chunk: Buffer) => void) | undefined;
  const stream = new fzstd.Decompress((chunk) => push?.(Buffer.from(chunk)));
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      push = (out) => this.push(out);
      try {
        stream.push(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      push = (out) => this.push(out);
      try {
        stream.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

function asLayerError(error: unknown, archive: ArtifactArchive): unknown {
  if (error instanceof MlcacheError || (error as Error)?.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS') return error;
  return new MlcacheError('ARTIFACT_INVALID', `Layer ${archive.label} is not a readable ${archive.mediaType} archive: ${cutValue((error as Error)?.message ?? String(error))}.`, {
    hint: 'Its digest matched, so the publisher packed it wrongly: push the model again with a working tool.',
    cause: error,
  });
}

