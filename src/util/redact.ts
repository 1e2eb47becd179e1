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

/**
 * C0 controls except tab and newline, DEL, and C1 controls (U+0080–U+009F: a server's Latin-1
 * header bytes arrive as these, and U+009B is CSI on some terminals). Server text (X-Error-Message,
 * JSON `error`, file names in a listing) reaches the terminal through our messages; an ESC or CR
 * in it could clear the screen, rewrite the line or retitle the window.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with terminal control characters shown as U+FFFD (JSON-safe, unlike a `\x1b` spelling). */
export function stripControlChars(text: string): string {
  return text.replace(CONTROL_CHARS, '\uFFFD');
}

/** `text` safe to print: known secrets, tokens, bearer values and URL signatures masked; control characters neutralized. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join('***');
  return stripControlChars(out.replace(TOKEN_PATTERN, 'hf_***').replace(BEARER_PATTERN, '$1***').replace(SIGNED_QUERY_KEYS, '$1***'));
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
