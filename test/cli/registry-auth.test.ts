/**
 * push and pull as a person runs them against a registry that needs credentials, through the real
 * binary: the Bearer token flow with tokens that expire mid-run, credentials from `docker login`'s
 * config.json, blob GETs redirected (307) to a storage origin that must never see a credential (the
 * registry emulator, src/emulator/registry, rejects one there), a refused scope named in the error,
 * a lying blob refused with the cache still valid — and no secret in any output.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { createRegistryEmulator, type RegistryEmulator } from '../../src/emulator/index.js';
import { EXIT } from '../../src/errors.js';
import { describeRepoFolder } from '../helpers/cache-tree.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const MiB = 1024 * 1024;
const hub = useEmulator(() => ({
  repos: [{ id: 'acme/secret-model', revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"s":1}' }, { path: 'model.safetensors', generated: { size: 3 * MiB, seed: 8 } }] }] }],
}));
const PUSHER = { user: 'ci-pusher', password: 'pUsh-Secret-98765' };
const READER = { user: 'node-reader', password: 'rEad-Secret-45678' };

let root: string;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-regauth-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function registry(): Promise<RegistryEmulator> {
  const emu = await createRegistryEmulator({
    auth: 'bearer',
    users: {
      [PUSHER.user]: { password: PUSHER.password, push: ['models/*'], pull: ['*'] },
      [READER.user]: { password: READER.password, push: [], pull: ['models/*'] },
    },
    // Tokens die after a quarter of a second, before the minute they announce: a push and a pull
    // both outlive several and must refresh on the 401.
    tokenLifetimeSec: 60,
    tokenValidSec: 0.25,
    redirectBlobs: true,
  });
  onTestFinished(() => emu.close());
  return emu;
}

/** A HOME whose ~/.docker/config.json holds `docker login` credentials for the registry. */
async function homeWith(name: string, emu: RegistryEmulator, who: { user: string; password: string }): Promise<Record<string, string>> {
  const home = path.join(root, name);
  await mkdir(path.join(home, '.docker'), { recursive: true });
  const auth = Buffer.from(`${who.user}:${who.password}`).toString('base64');
  await writeFile(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [emu.registry]: { auth } } }));
  return { HOME: home, PATH: process.env.PATH ?? '', NO_COLOR: '1' };
}

const noSecrets = (text: string) => {
  for (const secret of [PUSHER.password, READER.password, Buffer.from(`${PUSHER.user}:${PUSHER.password}`).toString('base64')]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9._-]{8,}/);
};

describe('push and pull against a registry that needs credentials', () => {
  it('the token flow, expiring tokens and a 307 to storage: the cache round-trips and storage never sees a credential', async () => {
    const emu = await registry();
    const pusherEnv = await homeWith('pusher', emu, PUSHER);
    const readerEnv = await homeWith('reader', emu, READER);
    const cacheA = path.join(root, 'a');
    expect((await runCli(['download', 'acme/secret-model', '--endpoint', hub().url, '--cache-dir', cacheA, '--quiet'], { env: pusherEnv })).exitCode).toBe(0);

    const pushed = await runCli(['push', 'acme/secret-model', `oci://${emu.registry}/models/acme/secret-model`, '--cache-dir', cacheA, '--chunk-size', '64KB', '--jobs', '1', '--verbose'], { env: pusherEnv });
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    noSecrets(pushed.stdout + pushed.stderr);

    const cacheB = path.join(root, 'b');
    emu.setFaults({ blobDelayMs: 300 });
    const pulled = await runCli(['pull', `oci://${emu.registry}/models/acme/secret-model:main`, '--cache-dir', cacheB, '--verbose'], { env: readerEnv });
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    noSecrets(pulled.stdout + pulled.stderr);
    expect(await describeRepoFolder(path.join(cacheB, 'models--acme--secret-model'))).toEqual(await describeRepoFolder(path.join(cacheA, 'models--acme--secret-model')));

    const storage = emu.requests.filter((r) => r.server === 'storage');
    expect(storage.length).toBeGreaterThan(0);
    expect(storage.filter((r) => r.hasAuthorization)).toEqual([]);
    // Ranges were re-sent to storage (the engine's ranged GETs follow the redirect target).
    expect(storage.some((r) => r.range !== undefined)).toBe(true);
    // Several tokens: the short lifetime was refreshed, not failed on.
    expect(emu.tokensIssued).toBeGreaterThan(2);
  });

  it('a reader may not push: REGISTRY_AUTH names the refused scope, exit 4, no secret', async () => {
    const emu = await registry();
    const readerEnv = await homeWith('reader', emu, READER);
    const cacheA = path.join(root, 'a');
    expect((await runCli(['download', 'acme/secret-model', '--endpoint', hub().url, '--cache-dir', cacheA, '--quiet'], { env: readerEnv })).exitCode).toBe(0);
    const denied = await runCli(['push', 'acme/secret-model', `oci://${emu.registry}/models/acme/secret-model`, '--cache-dir', cacheA], { env: readerEnv });
    expect(denied.exitCode).toBe(EXIT.AUTH);
    expect(denied.stderr).toMatch(/repository:models\/acme\/secret-model:[a-z,]*push/);
    expect(denied.stderr).toMatch(/hint: /);
    noSecrets(denied.stdout + denied.stderr);
  });

  it('a lying blob fails the pull with exit 8; no ref is written and the next honest pull completes', async () => {
    const emu = await registry();
    const pusherEnv = await homeWith('pusher', emu, PUSHER);
    const cacheA = path.join(root, 'a');
    expect((await runCli(['download', 'acme/secret-model', '--endpoint', hub().url, '--cache-dir', cacheA, '--quiet'], { env: pusherEnv })).exitCode).toBe(0);
    const pushed = await runCli(['push', 'acme/secret-model', `oci://${emu.registry}/models/acme/secret-model`, '--cache-dir', cacheA, '--json'], { env: pusherEnv });
    expect(pushed.exitCode).toBe(0);
    const manifest = emu.manifest('models/acme/secret-model', 'main')!;
    const big = (JSON.parse(manifest.bytes.toString()) as { layers: Array<{ digest: string; size: number }> }).layers.find((l) => l.size === 3 * MiB)!;
    emu.setFaults({ lyingBlobs: [big.digest] });
    const cacheB = path.join(root, 'b');
    const lied = await runCli(['pull', `oci://${emu.registry}/models/acme/secret-model:main`, '--cache-dir', cacheB], { env: pusherEnv });
    expect(lied.exitCode).toBe(EXIT.INTEGRITY);
    expect(await readdir(path.join(cacheB, 'models--acme--secret-model', 'refs')).catch(() => [])).toEqual([]);
    emu.setFaults({});
    const honest = await runCli(['pull', `oci://${emu.registry}/models/acme/secret-model:main`, '--cache-dir', cacheB, '--quiet'], { env: pusherEnv });
    expect(honest.exitCode, honest.stderr).toBe(0);
    expect(await describeRepoFolder(path.join(cacheB, 'models--acme--secret-model'))).toEqual(await describeRepoFolder(path.join(cacheA, 'models--acme--secret-model')));
  });
});
