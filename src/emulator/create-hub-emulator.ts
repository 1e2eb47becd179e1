/**
 * A Hugging Face Hub emulator on plain node:http: a hub origin (API + resolve) and a separate "CDN"
 * origin that serves LFS blobs behind signed, expiring URLs. It follows the Hub as the reference
 * clients see it (huggingface_hub file_download.py, hf_api.py, utils/_http.py; huggingface.js
 * packages/hub); choices where the Hub is ambiguous are in docs/emulator.md.
 *
 * This file composes the parts over one explicit state (state.ts): responses (respond.ts), access
 * rules (access.ts), file bytes with ranges and faults (serve-content.ts), the routes (routes/api.ts,
 * routes/resolve.ts, routes/cdn.ts) and the two servers (server.ts); what is left here is the
 * public handle tests drive.
 */
import { MlcacheError } from '../errors.js';
import { readAll } from './content.js';
import { fileAt as findFile, findRevision, resolveFile, type StoredRepo, type StoredRevision } from './repo-store.js';
import { startServers } from './server.js';
import { createEmulatorState, findRepo, type EmulatorState } from './state.js';
import type { FileDigest, HubEmulator, HubEmulatorOptions, RepoType } from './types.js';

export { DEFAULT_TOKEN, DEFAULT_PAGE_SIZE, DEFAULT_CDN_TTL_SEC } from './state.js';
export { INVALID_CREDENTIALS, DISABLED_MESSAGE } from './access.js';

export async function createHubEmulator(options: HubEmulatorOptions): Promise<HubEmulator> {
  const state = createEmulatorState(options);
  const servers = await startServers(state);
  const { stats, engine } = state;
  return {
    get url() {
      return state.hubUrl;
    },
    get cdnUrl() {
      return state.cdnUrl;
    },
    stats,
    resetStats() {
      stats.bytesServed = 0;
      stats.requestCount = 0;
      stats.requests.length = 0;
    },
    setFaults(faults) {
      engine.set(faults);
    },
    addFaultRule(rule) {
      engine.add(rule);
    },
    commitOf(repoId, ref, type = 'model') {
      return revisionOrThrow(repoOrThrow(state, repoId, type), ref).commit;
    },
    moveRef(repoId, ref, target, type = 'model') {
      const repo = repoOrThrow(state, repoId, type);
      const to = revisionOrThrow(repo, target);
      for (const rev of repo.revisions) rev.refs = rev.refs.filter((r) => r !== ref);
      to.refs.push(ref);
    },
    async digestOf(repoId, path, revision = 'main', type = 'model'): Promise<FileDigest> {
      const r = await fileAt(state, repoId, path, revision, type);
      return { path: r.path, size: r.size, gitSha1: r.gitSha1, sha256: r.sha256, lfs: r.lfs, etag: r.etag };
    },
    async contentOf(repoId, path, revision = 'main', type = 'model') {
      const r = await fileAt(state, repoId, path, revision, type);
      return Buffer.from(readAll(r.source));
    },
    close: () => servers.close(),
  };
}

function repoOrThrow(state: EmulatorState, repoId: string, type: RepoType): StoredRepo {
  const repo = findRepo(state, type, repoId);
  if (!repo) throw new MlcacheError('REPO_NOT_FOUND', `The emulator has no ${type} repo ${repoId}.`, { hint: 'Add it to the emulator options `repos`.' });
  return repo;
}

function revisionOrThrow(repo: StoredRepo, ref: string): StoredRevision {
  const rev = findRevision(repo, ref);
  if (!rev) throw new MlcacheError('REVISION_NOT_FOUND', `The emulator repo ${repo.id} has no revision ${ref}.`, { hint: 'Check the fixture refs.' });
  return rev;
}

async function fileAt(state: EmulatorState, repoId: string, path: string, revision: string, type: RepoType) {
  const rev = revisionOrThrow(repoOrThrow(state, repoId, type), revision);
  const file = findFile(rev, path);
  if (!file) throw new MlcacheError('ENTRY_NOT_FOUND', `The emulator repo ${repoId}@${revision} has no file ${path}.`, { hint: 'Check the fixture files.' });
  return resolveFile(file);
}
