/** The version `mlcache --version` prints: package.json's, read by src/util/version.ts (the one source). */
import { mlcacheVersion } from '../util/version.js';

export const VERSION: string = mlcacheVersion();
