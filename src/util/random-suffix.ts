/**
 * The random part of every temp and probe name mlcache makes: 8 lower-case hex characters from
 * 4 random bytes, as huggingface_hub's `uuid4().hex[:8]` (file_download.py
 * `_cache_commit_hash_for_specific_revision`). 2^32 values: unique enough for names that also
 * carry a host and pid or live for one rename.
 */
import { randomBytes } from 'node:crypto';

/** 8 lower-case hex characters, e.g. `3fa9c01b`. */
export function randomHex8(): string {
  return randomBytes(4).toString('hex');
}
