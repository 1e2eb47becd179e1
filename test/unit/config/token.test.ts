import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { resolveToken, tokenProblem } from '../../../src/config/token.js';
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

  it('accepts visible ASCII only: whitespace, control and non-ASCII characters are named', () => {
    expect(tokenProblem('hf_AbC-123.x_~')).toBeUndefined();
    expect(tokenProblem('hf_abc\nInjected: 1')).toMatch(/newline or other control character/);
    expect(tokenProblem('hf_abc\r')).toMatch(/newline or other control character/);
    expect(tokenProblem('hf_\u001b[2Jabc')).toMatch(/control character/);
    expect(tokenProblem('hf_\u0085abc')).toMatch(/control character/);
    expect(tokenProblem(' hf_abc')).toMatch(/whitespace/);
    expect(tokenProblem('hf_abc\t')).toMatch(/whitespace|control/);
    expect(tokenProblem('hf_ab\u00a0c')).toMatch(/whitespace/);
    expect(tokenProblem('hf_abcé')).toMatch(/not ASCII/);
  });

  it('refuses a bad token from each source with USAGE naming the source, never the token; empty = none', async () => {
    const bad = 'hf_SECRET\nX-Injected: yes';
    const reject = async (settings: ReturnType<typeof loadSettings>, flag?: string) => {
      const error = await resolveToken(settings, flag).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; hint: string },
      );
      expect(error?.code).toBe('USAGE');
      expect(`${error?.message} ${error?.hint}`).not.toContain('SECRET');
      return error!.message;
    };
    const base = { HOME: dir, HF_HOME: dir };
    expect(await reject(loadSettings({ env: base, cwd: dir }), bad)).toMatch(/^--token contains a newline/);
    expect(await reject(loadSettings({ env: { ...base, HF_TOKEN: bad }, cwd: dir }))).toMatch(/^HF_TOKEN contains a newline/);
    expect(await reject(loadSettings({ env: { ...base, HUGGING_FACE_HUB_TOKEN: 'hf_SECRET ' }, cwd: dir }))).toMatch(/^HUGGING_FACE_HUB_TOKEN contains a space/);
    await writeFile(path.join(dir, 'token'), 'hf_SECRET\n\n');
    expect(await reject(loadSettings({ env: base, cwd: dir }))).toContain(`token file ${path.join(dir, 'token')} contains a newline`);
    // One trailing newline in the file is what `echo hf_… > token` writes: accepted.
    await writeFile(path.join(dir, 'token'), 'hf_fine123\r\n');
    expect(await resolveToken(loadSettings({ env: base, cwd: dir }))).toEqual({ value: 'hf_fine123', source: 'token file' });
    // Empty values are unset (huggingface_hub's _clean_token): the next source is used.
    expect(await resolveToken(loadSettings({ env: { ...base, HF_TOKEN: '' }, cwd: dir }), '')).toEqual({ value: 'hf_fine123', source: 'token file' });
    // A bad HF_TOKEN is never looked at when --token is given.
    expect((await resolveToken(loadSettings({ env: { ...base, HF_TOKEN: bad }, cwd: dir }), 'hf_flag'))?.source).toBe('--token');
  });

  it('registers the token so that it is redacted from any output', async () => {
    const s = loadSettings({ env: { HOME: dir, HF_HOME: dir }, cwd: dir });
    await resolveToken(s, 'secret-token-without-prefix');
    expect(redact('failed with secret-token-without-prefix in it')).toBe('failed with *** in it');
    expect(redact('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ***');
    expect(redact('hf_AAAAAAAAAAAAAAAAAAAA')).toBe('hf_***');
  });
});
