/**
 * A gated repo whose listing is public but whose files are not (the Hub's usual answer for a
 * gated model without access: repo info and tree are readable, every resolve is 401/403 GatedRepo).
 * The person reads ONE sentence that names the page to accept, not one near-identical line per file,
 * and the run stops asking once the Hub said no: a 40-file repo costs the requests in flight, not 40.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, makeFile, REPO, startHostileHub, type HostileHub } from '../helpers/hostile-hub.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

const FILES = Array.from({ length: 40 }, (_, i) => makeFile(`model-${String(i + 1).padStart(5, '0')}-of-00040.safetensors`, bytes(5_000, i + 1), true));

describe('a gated repo with a public listing', () => {
  let hostile: HostileHub;
  let resolves = 0;
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-gated-'));
    hostile = await startHostileHub({
      files: FILES,
      hub: (req, res) => {
        if (!req.url?.includes('/resolve/')) return false;
        resolves++;
        const auth = req.headers.authorization !== undefined;
        res
          .writeHead(auth ? 403 : 401, { 'x-error-code': 'GatedRepo', 'x-error-message': auth ? `Access to model ${REPO} is restricted and you are not in the authorized list. Visit https://huggingface.co/${REPO} to ask for access.` : `Access to model ${REPO} is restricted. You must have access to it and be authenticated to access it. Please log in.` })
          .end();
        return true;
      },
    });
  });
  afterAll(async () => {
    await hostile.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const token of [undefined, 'hf_validbutnotallowed0000000000000'] as const) {
    it(token ? 'with a token that lacks access: one sentence, exit 4' : 'without a token: one sentence, exit 4', async () => {
      resolves = 0;
      const args = ['download', REPO, '--endpoint', hostile.hub.url, '--cache-dir', path.join(dir, token ? 'b' : 'a'), '--connections', '2'];
      const result = await runCli(token ? [...args, '--token', token] : args, { env: { PATH: process.env.PATH ?? '', HOME: dir } });
      expect(result.exitCode).toBe(4);
      const lines = result.stderr.split('\n').filter((l) => /gated|restricted|access/i.test(l));
      expect(lines.filter((l) => l.startsWith('error:')), result.stderr).toHaveLength(1);
      expect(result.stderr.split('\n').filter((l) => l.startsWith('failed:')), result.stderr).toEqual([]);
      expect(lines.length, result.stderr).toBeLessThanOrEqual(2);
      // Once the Hub said no, the files not yet asked for fail without a request each: only those
      // already in flight (2 connections: at most 4 items at once) were asked.
      expect(resolves).toBeGreaterThanOrEqual(1);
      expect(resolves).toBeLessThanOrEqual(6);
      if (token) expect(result.stdout + result.stderr).not.toContain(token);
    });
  }
});

describe('a gated repo whose regular files are refused with X-Error-Code', () => {
  let hostile: HostileHub;
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-gated-regular-'));
    hostile = await startHostileHub({
      files: [makeFile('config.json', Buffer.from('{"a":1}\n'), false), makeFile('tokenizer.json', Buffer.from('{"t":1}\n'), false)],
      hub: (req, res) => {
        if (!req.url?.includes('/resolve/')) return false;
        res.writeHead(403, { 'x-error-code': 'GatedRepo', 'x-error-message': `Access to model ${REPO} is restricted and you are not in the authorized list.` }).end();
        return true;
      },
    });
  });
  afterAll(async () => {
    await hostile.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a 403 that names its cause is not read as an expired URL: no retry line, one sentence', async () => {
    const token = 'hf_validbutnotallowed0000000000000';
    const result = await runCli(['download', REPO, '--endpoint', hostile.hub.url, '--cache-dir', dir, '--token', token], { env: { PATH: process.env.PATH ?? '', HOME: dir } });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).not.toMatch(/retry|expired/);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: Model acme\/x is gated/m);
    expect(result.stdout + result.stderr).not.toContain(token);
  });
});
