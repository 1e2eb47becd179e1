/** The User-Agent mlcache sends to the Hub. */
import { mlcacheVersion } from '../util/version.js';

/** `mlcache/<version>; node/<version>`, in huggingface_hub's `name/version; name/version` style. */
export function defaultUserAgent(version: string = mlcacheVersion()): string {
  return `mlcache/${version}; node/${process.versions.node}`;
}
