/**
 * mlcache's version, from the one place it is written: package.json's `version`. `mlcache
 * --version` and the Hub client's user agent both read it here. Light on purpose (node:module
 * only): src/cli/main.ts imports it before anything else, so `--help` and `--version` stay fast.
 */
import { createRequire } from 'node:module';

let cached: string | undefined;

/**
 * The `version` of the package.json two levels up (src/util/ and dist/util/ are both two levels
 * below the package root); 'unknown' when that file is missing or is not mlcache's. Read once.
 */
export function mlcacheVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = createRequire(import.meta.url)('../../package.json') as { name?: unknown; version?: unknown };
      cached = pkg.name === 'mlcache' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
