/**
 * Secrets never leave: every string that reaches output (messages, JSON events, logs) passes
 * through `redact`. Hub tokens look like `hf_…`; signed CDN URLs carry signatures in their query.
 */
const TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{8,}\b/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"',]+/gi;
const SIGNED_QUERY_KEYS = /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|Policy|Key-Pair-Id|token|access_token)=)[^&#\s"']+/gi;

const knownSecrets = new Set<string>();

/** Register a secret (e.g. the token in use) so that it is redacted wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) knownSecrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join('***');
  return out.replace(TOKEN_PATTERN, 'hf_***').replace(BEARER_PATTERN, '$1***').replace(SIGNED_QUERY_KEYS, '$1***');
}

/** A URL safe to print: credentials and signatures removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return redact(u.toString());
  } catch {
    return redact(url);
  }
}
