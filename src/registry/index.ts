/** The OCI registry client (docs/registry.md): references, credentials, auth and the client itself. */
export type * from './types.js';
export { createRegistryClient, defaultInsecure, isLoopbackRegistry, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, type RegistryClientExtraOptions } from './client.js';
export {
  formatImageReference,
  isValidDigest,
  isValidRepositoryName,
  isValidTag,
  parseImageReference,
  registryRepositoryFor,
  verifyDigest,
  verifyRepositoryName,
} from './reference.js';
export { readRegistryCredentials, findCredentials, registerCredentials, type ReadRegistryCredentialsOptions } from './credentials.js';
export { parseChallenges, type AuthChallenge } from './challenge.js';
export { parseRegistryErrorBody } from './registry-error.js';
export { uploadSessionKey } from './upload.js';
