/**
 * Token resolution, as huggingface_hub's utils/_auth.py::get_token does (minus OIDC and Colab):
 * --token > HF_TOKEN > HUGGING_FACE_HUB_TOKEN > the token file ($HF_TOKEN_PATH, else $HF_HOME/token).
 * Cleaning: drop \r and \n, trim; empty means none.
 */
import { readFile } from 'node:fs/promises';
import { registerSecret } from '../util/redact.js';
import type { Settings } from './settings.js';

export type TokenSource = '--token' | 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'token file';

export interface ResolvedToken {
  value: string;
  source: TokenSource;
}

export function cleanToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const cleaned = raw.replace(/[\r\n]/g, '').trim();
  return cleaned === '' ? undefined : cleaned;
}

export async function resolveToken(settings: Settings, flagToken?: string): Promise<ResolvedToken | undefined> {
  const found = await findToken(settings, flagToken);
  registerSecret(found?.value);
  return found;
}

async function findToken(settings: Settings, flagToken?: string): Promise<ResolvedToken | undefined> {
  const explicit = cleanToken(flagToken);
  if (explicit) return { value: explicit, source: '--token' };
  if (settings.disableImplicitToken) return undefined;
  const fromEnv = cleanToken(settings.env.HF_TOKEN);
  if (fromEnv) return { value: fromEnv, source: 'HF_TOKEN' };
  const legacy = cleanToken(settings.env.HUGGING_FACE_HUB_TOKEN);
  if (legacy) return { value: legacy, source: 'HUGGING_FACE_HUB_TOKEN' };
  try {
    const fromFile = cleanToken(await readFile(settings.tokenPath, 'utf8'));
    if (fromFile) return { value: fromFile, source: 'token file' };
  } catch {
    // No token file is the normal case for public repos.
  }
  return undefined;
}
