/**
 * Token resolution, as huggingface_hub's utils/_auth.py::get_token does (minus OIDC and Colab):
 * --token > HF_TOKEN > HUGGING_FACE_HUB_TOKEN > the token file ($HF_TOKEN_PATH, else $HF_HOME/token).
 *
 * An empty value means none (huggingface_hub's `_clean_token` returns None for ""). Otherwise the
 * token is validated before any request: Hub tokens (`hf_…`) are visible ASCII, so a value with
 * whitespace, a line break or another control character is refused with a USAGE error naming its
 * source — it would otherwise end up in an `Authorization` header, where a line break is a
 * header-injection attempt and undici refuses it with an error that could carry the value.
 * The one tolerance: a single trailing newline in the token FILE, which `echo hf_… > token`
 * writes. huggingface_hub strips every `\r`/`\n` and surrounding space silently; mlcache refuses
 * them (docs/errors.md), since a token that is not what the user meant is better named than sent.
 * The token itself never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import { usageError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import type { Settings } from './settings.js';

export type TokenSource = '--token' | 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'token file';

export interface ResolvedToken {
  value: string;
  source: TokenSource;
}

/** Why `value` cannot be a Hub token (visible ASCII 0x21–0x7e only), or undefined when it can. */
export function tokenProblem(value: string): string | undefined {
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x21 && c <= 0x7e) continue;
    if (c === 0x0a || c === 0x0d) return 'contains a newline or other control character';
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) return 'contains a newline or other control character';
    if (c === 0x20 || /\s/u.test(ch)) return 'contains a space or other whitespace';
    return 'contains a character that is not ASCII';
  }
  return undefined;
}

/** The value itself when it is a usable token; undefined when empty; throws USAGE naming `label` otherwise. */
export function validateToken(raw: string | undefined, label: string, settings: Pick<Settings, 'endpoint'>): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const problem = tokenProblem(raw);
  if (problem === undefined) return raw;
  throw usageError(
    `${label} ${problem}; a Hub token is visible ASCII only, so it was not sent.`,
    `Copy the token again from ${settings.endpoint}/settings/tokens, without spaces or line breaks.`,
  );
}

/**
 * The token to send. The CLI's output door already masks every token the settings name
 * (config/known-secrets.ts); the one in use is also registered with util/redact.ts, so a library
 * caller's `redact()` masks it too.
 */
export async function resolveToken(settings: Settings, flagToken?: string): Promise<ResolvedToken | undefined> {
  const found = await findToken(settings, flagToken);
  registerSecret(found?.value);
  return found;
}

async function findToken(settings: Settings, flagToken?: string): Promise<ResolvedToken | undefined> {
  const explicit = validateToken(flagToken, '--token', settings);
  if (explicit) return { value: explicit, source: '--token' };
  if (settings.disableImplicitToken) return undefined;
  const fromEnv = validateToken(settings.env.HF_TOKEN, 'HF_TOKEN', settings);
  if (fromEnv) return { value: fromEnv, source: 'HF_TOKEN' };
  const legacy = validateToken(settings.env.HUGGING_FACE_HUB_TOKEN, 'HUGGING_FACE_HUB_TOKEN', settings);
  if (legacy) return { value: legacy, source: 'HUGGING_FACE_HUB_TOKEN' };
  let text: string;
  try {
    text = await readFile(settings.tokenPath, 'utf8');
  } catch {
    return undefined; // no token file is the normal case for public repos
  }
  const fromFile = validateToken(text.replace(/\r?\n$/, ''), `The token file ${settings.tokenPath}`, settings);
  return fromFile ? { value: fromFile, source: 'token file' } : undefined;
}
