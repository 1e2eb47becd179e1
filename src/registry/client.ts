/**
 * The OCI registry client (opencontainers/distribution-spec v1.1 spec.md: "Pulling manifests",
 * "Pulling blobs", "Pushing blobs", "Pushing manifests"), on undici with the injected Dispatcher:
 * the composition of the authenticated exchange (registry-exchange.ts: ping, retries, redirects,
 * credentials only on the registry's origin), manifest operations (manifests.ts), blob reads
 * (blobs.ts) and uploads (upload.ts).
 */
import { MlcacheError } from '../errors.js';
import { createAuthenticator } from './auth.js';
import { blobSource, getBlob, headBlob } from './blobs.js';
import { getManifest, headManifest, putManifest } from './manifests.js';
import { defaultInsecure, isListedInsecure, isLoopbackRegistry } from './plain-http.js';
import { verifyDigest, verifyRepositoryName } from './reference.js';
import { createRegistryExchange } from './registry-exchange.js';
import type { RegistryClient, RegistryClientOptions } from './types.js';
import { uploadBlob } from './upload.js';

export { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifests.js';
export { defaultInsecure, isLoopbackRegistry } from './plain-http.js';
export { MAX_ATTEMPTS, MAX_RETRY_MS, type RegistryRequester, type RequestSpec } from './registry-exchange.js';

/**
 * Extra options beyond the contract in types.ts (source-compatible: all optional).
 */
export interface RegistryClientExtraOptions {
  /** Hosts allowed over plain HTTP besides loopback (--insecure-registry, Settings.registry.insecure). */
  insecureHosts?: readonly string[] | undefined;
  /** Retry pacing; tests shorten it. @default 500 */
  retryBaseDelayMs?: number | undefined;
}

export function createRegistryClient(options: RegistryClientOptions & RegistryClientExtraOptions): RegistryClient & { readonly tokensFetched: number } {
  const registry = options.registry.toLowerCase();
  const insecure = options.insecure === true;
  if (insecure && !isLoopbackRegistry(registry) && !isListedInsecure(registry, options.insecureHosts ?? [])) {
    throw new MlcacheError('INSECURE_REGISTRY', `Refusing to talk to ${registry} over plain HTTP: it is not a loopback host and not named by --insecure-registry.`, {
      hint: `Use the registry over HTTPS, or pass --insecure-registry ${registry} (MLCACHE_INSECURE_REGISTRY) if it only speaks HTTP.`,
    });
  }
  // Docker Hub's API lives at registry-1.docker.io (containers/image docker_client.go does the same).
  const apiHost = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
  const baseUrl = `${insecure ? 'http' : 'https'}://${apiHost}`;
  const userAgent = options.userAgent ?? 'mlcache';
  const dispatcher = options.dispatcher;
  const auth = createAuthenticator({
    dispatcher,
    registry,
    baseUrl,
    credentials: options.credentials,
    userAgent,
    plainHttpAllowed: (host) => defaultInsecure(host, options.insecureHosts ?? []),
    signal: () => options.signal,
  });
  const req = createRegistryExchange({ registry, baseUrl, userAgent, dispatcher, auth, signal: options.signal, baseDelayMs: options.retryBaseDelayMs, onWarning: options.onWarning });

  return {
    registry,
    baseUrl,
    get tokensFetched() {
      return auth.tokensFetched;
    },
    getManifest: (repository, reference) => getManifest(req, repository, reference),
    headManifest: (repository, reference) => headManifest(req, repository, reference),
    putManifest: (repository, reference, bytes, mediaType) => putManifest(req, repository, reference, bytes, mediaType),
    headBlob: (repository, digest) => headBlob(req, repository, digest),
    getBlob: (repository, digest, maxBytes) => getBlob(req, repository, digest, maxBytes),
    blobSource: (repository, digest) => blobSource(req, repository, digest),
    uploadBlob(repository, upload) {
      verifyRepositoryName(repository);
      verifyDigest(upload.digest);
      for (const from of upload.mountFrom ?? []) verifyRepositoryName(from);
      return uploadBlob(req, repository, upload);
    },
    close() {
      return Promise.resolve();
    },
  };
}
