/** The sha256 digest of bytes a registry sent or is sent, and the check against the digest it names. */
import { createHash } from 'node:crypto';
import { IntegrityError } from '../errors.js';

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** IntegrityError when `expected` is a sha256 digest other than `actual`; nothing to check when it is absent or of another algorithm. */
export function checkDigest(registry: string, actual: string, expected: string | undefined, what: string): void {
  if (expected === undefined || !expected.startsWith('sha256:') || expected === actual) return;
  throw new IntegrityError(`${registry} sent ${what} whose bytes hash to ${actual}, not ${expected}.`, { expected, actual, algorithm: 'sha256' }, {
    hint: 'A proxy or the registry altered the content: retry, and report it if it persists.',
  });
}
