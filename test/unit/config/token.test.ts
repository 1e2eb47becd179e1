import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { cleanToken, resolveToken } from '../../../src/config/token.js';
import { redact } from '../../../src/util/redact.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('token resolution', () => {
  it('prefers --token, then HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file', async () => {
    await writeFile(path.join(dir, 'token'), 'hf_fromfile123456\n');
    const env = { HOME: dir, HF_HOME: dir, HF_TOKEN: 'hf_fromenv1234567', HUGGING_FACE_HUB_TOKEN: 'hf_legacy12345678' };
    const s = loadSettings({ env, cwd: dir });
    expect(await resolveToken(s, 'hf_flag123456789')).toEqual({ value: 'hf_flag123456789', source: '--token' });
    expect(await resolveToken(s)).toEqual({ value: 'hf_fromenv1234567', source: 'HF_TOKEN' });
    expect(await resolveToken(loadSettings({ env: { ...env, HF_TOKEN: '' }, cwd: dir }))).toEqual({
      value: 'hf_legacy12345678',
      source: 'HUGGING_FACE_HUB_TOKEN',
    });
    expect(await resolveToken(loadSettings({ env: { HOME: dir, HF_HOME: dir }, cwd: dir }))).toEqual({
      value: 'hf_fromfile123456',
      source: 'token file',
    });
  });

  it('returns nothing without any source, and honours HF_HUB_DISABLE_IMPLICIT_TOKEN', async () => {
    expect(await resolveToken(loadSettings({ env: { HOME: dir, HF_HOME: dir }, cwd: dir }))).toBeUndefined();
    const s = loadSettings({ env: { HOME: dir, HF_HOME: dir, HF_TOKEN: 'hf_x1234567890', HF_HUB_DISABLE_IMPLICIT_TOKEN: '1' }, cwd: dir });
    expect(await resolveToken(s)).toBeUndefined();
    expect((await resolveToken(s, 'hf_explicit1234'))?.source).toBe('--token');
  });

  it('cleans tokens like huggingface_hub: CR/LF removed, whitespace trimmed, empty = none', () => {
    expect(cleanToken('  hf_abc\r\n')).toBe('hf_abc');
    expect(cleanToken(' \n ')).toBeUndefined();
  });

  it('registers the token so that it is redacted from any output', async () => {
    const s = loadSettings({ env: { HOME: dir, HF_HOME: dir }, cwd: dir });
    await resolveToken(s, 'secret-token-without-prefix');
    expect(redact('failed with secret-token-without-prefix in it')).toBe('failed with *** in it');
    expect(redact('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ***');
    expect(redact('hf_AAAAAAAAAAAAAAAAAAAA')).toBe('hf_***');
  });
});
