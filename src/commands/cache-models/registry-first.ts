/**
 * Registry-first `cache-models` (docs/registry.md): each Hub entry is looked up in an OCI registry
 * the fleet already runs — by its commit (`<prefix>/<org>/<name>:<commit>`, the tag every mlcache
 * push writes), or, when the Hub cannot be asked (HF_HUB_OFFLINE, an air-gapped rack), by its
 * revision as a tag. A hit is used only when the artifact is mlcache's own record of that repo and
 * commit and carries every file the entry selects; anything else is a miss, fetched from the Hub,
 * and with --push-missing pushed so the next node hits.
 */
import type { Settings } from '../../config/settings.js';
import type { SelectedHubEntry } from '../../catalog/index.js';
import type { TransferItem } from '../../download/types.js';
import { MlcacheError, isMlcacheError } from '../../errors.js';
import { isCommitHash } from '../../hub/index.js';
import type { RepoRef } from '../../hub/types.js';
import { readArtifactManifest } from '../../modelpack/read-artifact.js';
import { parseImageReference, registryRepositoryFor } from '../../registry/index.js';
import type { ImageReference, RegistryClient } from '../../registry/types.js';
import { artifactTree, planTree, type PlannedFile, type SnapshotPlan } from '../../snapshot/index.js';
import { tagForRevision } from '../push.js';

/** Where registry-first looks: `oci://host[:port][/prefix]`. */
export interface RegistryBase {
  registry: string;
  prefix: string;
  /** As written, for messages. */
  text: string;
}

/** `--registry`, else MLCACHE_REGISTRY, else the catalog's `registry` field; undefined: no registry. */
export function registryBase(flag: string | undefined, settings: Settings, catalogField?: string  ): RegistryBase | undefined {
  const text = flag ?? settings.registry.default ?? catalogField;
  if (text === undefined || text === '') return undefined;
  // A base names no tag: parse it as a reference to a placeholder repository to reuse the grammar checks.
  const trimmed = text.replace(/\/+$/, '');
  const probe = parseImageReference(`${trimmed}/x`);
  if (probe.tag !== undefined || probe.digest !== undefined) {
    throw new MlcacheError('USAGE', `The registry base ${text} names a tag or digest; give only oci://host[:port][/prefix].`, { hint: 'e.g. --registry oci://registry.internal:5000/models' });
  }
  const prefix = probe.repository.split('/').slice(0, -1).join('/');
  return { registry: probe.registry, prefix, text: trimmed };
}

/** The registry repository of a Hub repo under the base: models at `<prefix>/<org>/<name>`, others under `datasets/`, `spaces/`. */
export function repositoryFor(base: RegistryBase, repo: RepoRef): string {
  const typed = repo.type === 'model' ? base.prefix : [base.prefix, `${repo.type}s`].filter(Boolean).join('/');
  return registryRepositoryFor(repo.id, typed);
}

export function referenceFor(base: RegistryBase, repo: RepoRef, tag: string): ImageReference {
  return { registry: base.registry, repository: repositoryFor(base, repo), tag };
}

export type RegistryLookup =
  | { hit: true; plan: SnapshotPlan; reference: string; source: (file: PlannedFile) => TransferItem['resolve'] }
  | { hit: false; reason: string; reference: string };

/**
 * Look an entry up. `commit`: what the Hub says the revision points at, or undefined when the Hub
 * was not asked (then the revision's tag is looked up, and its artifact's commit is used).
 */
export async function lookupEntry(
  ctx: { client: RegistryClient; base: RegistryBase; cacheDir: string; signal?: AbortSignal | undefined },
  entry: SelectedHubEntry,
  commit: string | undefined,
): Promise<RegistryLookup> {
  const tag = commit ?? tagForRevision(entry.revision);
  const reference = referenceFor(ctx.base, entry.repo, tag);
  const shown = `oci://${reference.registry}/${reference.repository}:${tag}`;
  let manifest;
  try {
    manifest = await ctx.client.getManifest(reference.repository, tag);
  } catch (error) {
    if (isMlcacheError(error) && (error.code === 'MANIFEST_NOT_FOUND' || error.code === 'BLOB_NOT_FOUND')) return { hit: false, reason: 'not in the registry', reference: shown };
    throw error;
  }
  const contents = readArtifactManifest(manifest.bytes, manifest.mediaType);
  if (contents.repoId !== entry.repo.id || (contents.repoType ?? 'model') !== entry.repo.type) {
    return { hit: false, reason: `the registry's artifact is of ${contents.repoId ?? 'another repo'}`, reference: shown };
  }
  if (contents.commit === undefined || (commit !== undefined && contents.commit !== commit)) {
    return { hit: false, reason: 'the registry holds another commit', reference: shown };
  }
  if (!contents.complete) return { hit: false, reason: "the registry's artifact does not record the commit's tree", reference: shown };
  const { tree, carried, layerOf } = artifactTree(contents);
  const plan = await planTree(
    { cacheDir: ctx.cacheDir, signal: ctx.signal },
    { repo: entry.repo, revision: entry.revision, include: entry.include, exclude: entry.exclude, formats: entry.formats },
    { commit: contents.commit, tree, treeSource: 'artifact' },
  );
  const have = new Set(carried);
  const missing = plan.files.filter((f) => !have.has(f.path));
  if (missing.length > 0) return { hit: false, reason: `the registry's artifact lacks ${missing.length} selected file(s)`, reference: shown };
  const repository = reference.repository;
  return {
    hit: true,
    plan,
    reference: shown,
    source: (file) => ctx.client.blobSource(repository, `sha256:${layerOf.get(file.etag)!}`),
  };
}

export { isCommitHash };
