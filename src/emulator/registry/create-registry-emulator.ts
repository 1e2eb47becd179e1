/**
 * A loopback OCI registry (distribution-spec v1.1 spec.md) on node:http, with a separate token
 * service (distribution docs/spec/auth/token.md, oauth.md) and a separate storage origin for blob
 * redirects: three servers, three origins, so credential leaks across origins are really tested.
 * Blobs and manifests live in memory. docs/emulator.md has the endpoints, the auth modes and the
 * faults.
 *
 * This file composes the parts over one explicit state (state.ts): access rules (access.ts), faults
 * (faults.ts), blob bytes (serve-blob.ts), the routes (routes/registry.ts, routes/uploads.ts,
 * routes/token.ts, routes/storage.ts) and the servers (server.ts); what is left here is the public
 * handle tests drive.
 */
import { startServers } from './server.js';
import { createRegistryState, repositoryOf, sha256 } from './state.js';
import type { RegistryEmulator, RegistryEmulatorOptions } from './types.js';

export { repositoryMatches } from './access.js';

export async function createRegistryEmulator(options: RegistryEmulatorOptions = {}): Promise<RegistryEmulator> {
  const state = createRegistryState(options);
  const servers = await startServers(state);
  const { blobs, repositories, uploads, requests } = state;
  return {
    url: state.registryUrl,
    registry: servers.registry,
    tokenUrl: state.tokenUrl,
    storageUrl: state.storageUrl,
    requests,
    get tokensIssued() {
      return state.tokensIssued;
    },
    setFaults(next) {
      state.faults = next;
    },
    blob: (digest) => blobs.get(digest),
    manifest: (repository, reference) => repositories.get(repository)?.manifests.get(reference),
    addBlob(repository, bytes) {
      const digest = sha256(bytes);
      blobs.set(digest, bytes);
      repositoryOf(state, repository).blobs.add(digest);
      return digest;
    },
    addManifest(repository, tag, bytes, mediaType) {
      const digest = sha256(bytes);
      const entry = { bytes, mediaType, digest };
      repositoryOf(state, repository).manifests.set(tag, entry);
      repositoryOf(state, repository).manifests.set(digest, entry);
      return digest;
    },
    uploadSize: (id) => uploads.get(id)?.size,
    resetRequests() {
      requests.length = 0;
    },
    close: () => servers.close(),
  };
}
