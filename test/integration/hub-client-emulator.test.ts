/** The Hub client against the full Hub emulator (hub + CDN origins, real protocol). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { createHubEmulator, DEFAULT_TOKEN } from '../../src/emulator/index.js';
import type { HubEmulator } from '../../src/emulator/index.js';
import { createDispatcher, createHubClient } from '../../src/hub/index.js';

const PR_COMMIT = '1'.repeat(40);
const GRANTED_TOKEN = 'hf_emulator_granted_token_1111';
const model = { id: 'org/tiny', type: 'model' as const };
const gated = { id: 'org/gated', type: 'model' as const };

let emulator: HubEmulator;
let dispatcher: Dispatcher;

beforeAll(async () => {
  emulator = await createHubEmulator({
    pageSize: 2,
    tokens: [DEFAULT_TOKEN, GRANTED_TOKEN],
    repos: [
      {
        id: 'org/tiny',
        revisions: [
          {
            refs: ['main'],
            files: [
              { path: 'config.json', content: '{"a":1}' },
              { path: 'README.md', content: '# tiny' },
              { path: 'sub/tokenizer.json', content: '{}' },
              { path: 'model.safetensors', generated: { size: 4096 }, lfs: true },
              { path: 'sub/extra.bin', generated: { size: 100 }, lfs: true },
            ],
          },
          { commit: PR_COMMIT, refs: ['refs/pr/1'], files: [{ path: 'config.json', content: '{"a":2}' }] },
        ],
      },
      { id: 'org/gated', gated: 'manual', accessTokens: [GRANTED_TOKEN], revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{}' }] }] },
    ],
  });
  dispatcher = createDispatcher(undefined);
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.close();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; hint: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; hint: string };
  }
  throw new Error('expected a rejection');
}

function client(token: string | null = DEFAULT_TOKEN) {
  return createHubClient({ endpoint: emulator.url, token: token ?? undefined, dispatcher, baseDelayMs: 1, maxRetries: 2 });
}

describe('hub client × emulator', () => {
  it('resolveRevision: main and refs/pr/1', async () => {
    const c = client();
    expect((await c.resolveRevision(model, 'main')).commit).toBe(emulator.commitOf('org/tiny', 'main'));
    expect(await c.resolveRevision(model, 'refs/pr/1')).toEqual({ commit: PR_COMMIT, gated: false, private: false });
  });

  it('resolveRevision: an unknown revision → REVISION_NOT_FOUND', async () => {
    await expect(client().resolveRevision(model, 'nope')).rejects.toMatchObject({ code: 'REVISION_NOT_FOUND' });
  });

  it('listFiles follows pagination (page size 2) and returns every file with LFS data', async () => {
    emulator.resetStats();
    const commit = emulator.commitOf('org/tiny', 'main');
    const files = await client().listFiles(model, commit);
    expect(files.map((f) => f.path).sort()).toEqual(['README.md', 'config.json', 'model.safetensors', 'sub/extra.bin', 'sub/tokenizer.json']);
    const weights = files.find((f) => f.path === 'model.safetensors')!;
    const digest = await emulator.digestOf('org/tiny', 'model.safetensors');
    expect(weights.size).toBe(4096);
    expect(weights.lfs).toEqual({ oid: digest.sha256, size: 4096 });
    const treeRequests = emulator.stats.requests.filter((r) => r.url.includes('/tree/'));
    expect(treeRequests.length).toBeGreaterThanOrEqual(3);
  });

  it('resolveFile on an LFS file: one HEAD on the Hub, the CDN URL from its 302, the CDN not asked', async () => {
    emulator.resetStats();
    const commit = emulator.commitOf('org/tiny', 'main');
    const digest = await emulator.digestOf('org/tiny', 'model.safetensors');
    const resolved = await client().resolveFile(model, commit, 'model.safetensors');

    expect(resolved.url.startsWith(emulator.cdnUrl)).toBe(true);
    expect(resolved.headers.authorization).toBeUndefined();
    expect(resolved).toMatchObject({ commit, etag: digest.sha256, size: 4096 });
    expect(resolved.expiresAt).toBeGreaterThan(Date.now());

    const hubHead = emulator.stats.requests.find((r) => r.origin === 'hub' && r.method === 'HEAD');
    expect(hubHead?.headers.authorization).toBe(`Bearer ${DEFAULT_TOKEN}`);
    expect(emulator.stats.requests.filter((r) => r.origin === 'hub')).toHaveLength(1);
    // The CDN sees only the download's GETs, never the resolve (download.test.ts checks those carry no token).
    expect(emulator.stats.requests.filter((r) => r.origin === 'cdn')).toHaveLength(0);
  });

  it('resolveFile on a regular file: the git sha1 etag, the Hub URL, Authorization kept', async () => {
    const commit = emulator.commitOf('org/tiny', 'main');
    const digest = await emulator.digestOf('org/tiny', 'config.json');
    const resolved = await client().resolveFile(model, commit, 'config.json');
    expect(resolved).toMatchObject({ url: `${emulator.url}/org/tiny/resolve/${commit}/config.json`, etag: digest.gitSha1, size: digest.size, commit });
    expect(resolved.headers.authorization).toBe(`Bearer ${DEFAULT_TOKEN}`);
  });

  it('gated repo without a token → GATED_REPO with the repo page and a token hint', async () => {
    const error = await failure(client(null).resolveRevision(gated, 'main'));
    expect(error.code).toBe('GATED_REPO');
    expect(error.hint).toBe(`Accept the conditions at ${emulator.url}/org/gated, then pass a token with --token or HF_TOKEN.`);
  });

  it('gated repo with a token that has no access → GATED_REPO asking to accept with that account', async () => {
    const error = await failure(client().resolveRevision(gated, 'main'));
    // A valid token not in the repo's accessTokens gets 403 GatedRepo (conditions not accepted).
    expect(error.code).toBe('GATED_REPO');
    expect(error.hint).toContain(`${emulator.url}/org/gated`);
    expect(error.hint).toContain('account that owns your token');
  });

  it('gated repo with a token that was granted access → its commit and gated flag', async () => {
    expect(await client(GRANTED_TOKEN).resolveRevision(gated, 'main')).toEqual({ commit: emulator.commitOf('org/gated', 'main'), gated: 'manual', private: false });
  });

  it('whoami with the emulator token', async () => {
    expect(await client().whoami()).toEqual({ name: 'emulator-user', type: 'user' });
    await expect(client('hf_wrongwrongwrong').whoami()).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('a missing repo → REPO_NOT_FOUND', async () => {
    await expect(client().resolveRevision({ id: 'org/missing', type: 'model' }, 'main')).rejects.toMatchObject({ code: 'REPO_NOT_FOUND' });
  });
});
