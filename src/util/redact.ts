/**
 * Secrets never leave: what mlcache prints passes through here. Two layers:
 * - `redactSecrets(text, secrets)`: known secrets (the tokens and passwords the CLI knows from its
 *   settings, src/config/known-secrets.ts, plus those learned while running, below), Hub tokens
 *   (`hf_…`), `Authorization` / `Bearer` values, URL credentials (`user:pass@` → `user:***@`) and
 *   signed-URL query parameters. It leaves control characters alone, so the CLI's one output
 *   door (src/cli/output.ts) can run it over progress bars and their cursor movements.
 * - `redact(text)`: the same for a message, plus terminal control characters neutralized; for
 *   text that came from a server or a file before it becomes part of a message or event.
 */
const TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{8,}\b/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"',]+/gi;
/** `Authorization: Basic …` / `"authorization":"token …"`: the value after the scheme word. */
const AUTHORIZATION_PATTERN = /(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:basic|token)\s+)?)(?!\*\*\*|bearer\s)[^\s"',}]+/gi;
/**
 * `scheme://user:secret@host` (RFC 3986 §3.2.1 userinfo): the password part. The placeholders of
 * our own hints (`user:password@`, `user:pass@`) are left as they are.
 */
const URL_CREDENTIALS_PATTERN = /(\b[a-z][a-z0-9+.-]*:\/\/[^/?#\s:@"']*:)(?!(?:password|pass|\*\*\*)@)[^/?#\s@"']+@/gi;
// Signatures and credentials of signed URLs: AWS S3 / CloudFront, Google Cloud Storage
// (X-Goog-*), Azure SAS (`sig`, the signature GitHub release-asset redirects carry), and tokens in
// a query (`token`, `access_token`, `jwt`).
const SIGNED_QUERY_KEYS =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|Signature|Policy|Key-Pair-Id|sig|token|access_token|jwt)=)[^&#\s"']+/gi;

/**
 * Secrets learned while a command runs that no setting names: a registry token service's bearer
 * tokens (registry/auth.ts), credentials read from a container auth file (registry/credentials.ts),
 * the user:password of a catalog URL artifact (hub/url-artifact-source.ts). Tokens and passwords
 * known from settings (HF_TOKEN, --token, the token file, MLCACHE_REGISTRY_TOKEN, proxy passwords)
 * are passed to the CLI's output door explicitly (config/known-secrets.ts); the Hub token in use and
 * proxy passwords are also registered here when a client is built, for library callers' `redact()`.
 */
const learnedSecrets = new Set<string>();

/** Shorter values would mask ordinary text (a one-letter password is still a bad idea). */
const MIN_SECRET_LENGTH = 4;

/** Register a secret learned at run time (see `learnedSecrets`) so that it is redacted wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= MIN_SECRET_LENGTH) learnedSecrets.add(secret);
}

/** The secrets learned at run time so far (for the output door). */
export function learnedSecretList(): readonly string[] {
  return [...learnedSecrets];
}

/**
 * The spellings of `secret` that can reach output: as is, inside a JSON string (quotes and
 * backslashes escaped), and percent-encoded (in a URL). Too short a value yields none.
 */
export function secretSpellings(secret: string | undefined): string[] {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return [...forms];
}

/** `text` with the given secrets, the run-time ones and every secret-shaped value masked (control characters kept). */
export function redactSecrets(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const list of [secrets, learnedSecrets]) {
    for (const secret of list) if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join('***');
  }
  return out
    .replace(TOKEN_PATTERN, 'hf_***')
    .replace(BEARER_PATTERN, '$1***')
    .replace(AUTHORIZATION_PATTERN, '$1***')
    .replace(URL_CREDENTIALS_PATTERN, '$1***@')
    .replace(SIGNED_QUERY_KEYS, '$1***');
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

/** `text` safe to print: secrets masked (see `redactSecrets`); control characters neutralized. */
export function redact(text: string): string {
  return stripControlChars(redactSecrets(text));
}

/** A URL safe to print: credentials (user name too) and signatures removed. */
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
