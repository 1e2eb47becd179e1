/** The Hub emulator: a local, fault-injecting stand-in for huggingface.co and its CDN. */
export { createHubEmulator, DEFAULT_TOKEN, DEFAULT_PAGE_SIZE, DEFAULT_CDN_TTL_SEC, INVALID_CREDENTIALS, DISABLED_MESSAGE } from './create-hub-emulator.js';
export { demoRepos, DEMO_REPO_ID } from './fixtures.js';
export type * from './types.js';
/** The registry emulator: a loopback OCI registry with a token service and a storage origin. */
export { createRegistryEmulator } from './registry/create-registry-emulator.js';
export type * from './registry/types.js';
