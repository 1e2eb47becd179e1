/**
 * What a registry command needs, built once per run: the parsed `oci://` reference, the
 * credentials for its host (flag, environment, docker/containers auth files), the plain-HTTP
 * decision (loopback or --insecure-registry only) and the client on the run's dispatcher.
 */
import type { Dispatcher } from 'undici';
import type { Settings } from '../config/settings.js';
import { MlcacheError } from '../errors.js';
import { createRegistryClient, defaultInsecure, formatImageReference, parseImageReference, readRegistryCredentials } from '../registry/index.js';
import type { ImageReference, RegistryClient } from '../registry/types.js';

export interface RegistryAccess {
  /** --registry-token (else MLCACHE_REGISTRY_TOKEN, else the auth files). */
  registryToken?: string | undefined;
  /** --insecure-registry HOST (repeatable), added to MLCACHE_INSECURE_REGISTRY. */
  insecureRegistries?: readonly string[] | undefined;
}

export interface RegistrySession {
  reference: ImageReference;
  client: RegistryClient;
}

export function parseReference(text: string): ImageReference {
  return parseImageReference(text);
}

export async function openRegistry(
  settings: Settings,
  reference: ImageReference,
  options: RegistryAccess & { dispatcher: Dispatcher; signal?: AbortSignal | undefined; onWarning?: ((message: string) => void) | undefined },
): Promise<RegistryClient> {
  const insecureHosts = [...settings.registry.insecure, ...(options.insecureRegistries ?? [])];
  const insecure = defaultInsecure(reference.registry, insecureHosts);
  const token = options.registryToken ?? settings.registry.token;
  const credentials =
    token !== undefined
      ? ({ kind: 'bearer', token } as const)
      : await readRegistryCredentials({ registry: reference.registry, repository: reference.repository, authFiles: settings.registry.authFiles });
  return createRegistryClient({
    dispatcher: options.dispatcher,
    registry: reference.registry,
    insecure,
    insecureHosts,
    credentials,
    signal: options.signal,
    onWarning: options.onWarning,
  });
}

/** `oci://host/name:tag` for messages. */
export const formatReference = formatImageReference;

export function needsTagOrDigest(reference: ImageReference): MlcacheError {
  return new MlcacheError('USAGE', `${formatReference(reference)} names no tag or digest.`, {
    hint: 'Add one: oci://host/name:TAG or oci://host/name@sha256:…',
  });
}
