/**
 * The registry client against the registry emulator (src/emulator/registry): the token flow with
 * scopes and expiry, Basic auth from a docker config.json, --registry-token, identity tokens, a 307
 * to another origin without credentials, out-of-order chunks, dropped connections, lying blobs and
 * size limits — what the real docker-registry in registry-client.test.ts does not exercise.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { createTransferEngine } from '../../src/download/index.js';
import { createRegistryEmulator, type RegistryEmulator, type RegistryEmulatorOptions } from '../../src/emulator/index.js';
import { MlcacheError } from '../../src/errors.js';
import { closedPort } from '../helpers/net.js';
import { createRegistryClient, readRegistryCredentials, type BlobUpload, type RegistryCredentials, type UploadSessionStore } from '../../src/registry/index.js';

let dispatcher: Agent;
let dir: string;

beforeAll(async () => {
  dispatcher = new Agent({ connections: 8, keepAliveTimeout: 1000 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-reg-emu-'));
});
afterAll(async () => {
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

const USERS = {
  alice: { password: 'alice-Pa55word', push: ['models/*'], pull: ['*'] },
  bob: { password: 'bob-Pa55word', push: [] as string[], pull: ['models/*'] },
};

async function emulator(options: RegistryEmulatorOptions): Promise<RegistryEmulator> {
  const emu = await createRegistryEmulator(options);
  onTestFinished(() => emu.close());
  return emu;
}

function client(emu: RegistryEmulator, credentials?: RegistryCredentials, warnings?: string[]) {
  return createRegistryClient({
    dispatcher,
    registry: emu.registry,
    insecure: true,
    credentials,
    retryBaseDelayMs: 10,
    onWarning: (m) => warnings?.push(m),
  });
}

const alice: RegistryCredentials = { kind: 'basic', username: 'alice', password: USERS.alice.password };
const bob: RegistryCredentials = { kind: 'basic', username: 'bob', password: USERS.bob.password };

interface Blob {
  file: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

let counter = 0;
async function makeBlob(size: number): Promise<Blob> {
  const bytes = randomBytes(size);
  const file = path.join(dir, `blob-${counter++}.bin`);
  await writeFile(file, bytes);
  return { file, bytes, size, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

function uploadOf(blob: Blob, extra: Partial<BlobUpload> = {}): BlobUpload {
  return { digest: blob.digest, size: blob.size, open: (start) => createReadStream(blob.file, { start }), ...extra };
}

async function engineDownload(resolve: ReturnType<ReturnType<typeof client>['blobSource']>, blob: Blob, options: { chunkSize?: number } = {}) {
  const engine = createTransferEngine({
    dispatcher,
    chunkThreshold: 256 * 1024,
    chunkSize: options.chunkSize ?? 256 * 1024,
    tailChunkSize: options.chunkSize ?? 256 * 1024,
    connections: 4,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const destination = path.join(dir, `out-${counter++}.bin`);
  try {
    const result = await engine.download({
      id: destination,
      label: 'blob',
      size: blob.size,
      digest: { algorithm: 'sha256', hex: blob.digest.slice(7) },
      resolve,
      destination,
    });
    return { result, bytes: await readFile(destination) };
  } finally {
    await engine.close();
  }
}

function errorOf(promise: Promise<unknown>): Promise<MlcacheError> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(MlcacheError);
      return e as MlcacheError;
    },
  );
}

function manifestFor(config: string, layers: Blob[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config, size: 2 },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: l.digest, size: l.size })),
    }),
  );
}

describe('bearer token flow', () => {
  it('gets tokens from the separate token service per scope, and names the refused scope without leaking credentials', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS });
    const blob = await makeBlob(50_000);
    const a = client(emu, alice);
    expect((await a.uploadBlob('models/x', uploadOf(blob))).outcome).toBe('uploaded');
    const config = emu.addBlob('models/x', Buffer.from('{}'));
    const manifest = manifestFor(config, [blob]);
    const { digest } = await a.putManifest('models/x', 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');

    const tokenRequests = emu.requests.filter((r) => r.server === 'token');
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((r) => r.authScheme === 'basic')).toBe(true);
    expect(tokenRequests.some((r) => decodeURIComponent(r.url).includes('scope=repository:models/x:pull,push'))).toBe(true);
    // The registry only ever sees the bearer token, never the password.
    expect(emu.requests.filter((r) => r.server === 'registry' && r.hasAuthorization).every((r) => r.authScheme === 'bearer')).toBe(true);

    const b = client(emu, bob);
    expect((await b.getManifest('models/x', 'v1')).digest).toBe(digest);
    const refused = await errorOf(b.putManifest('models/x', 'v2', manifest, 'application/vnd.oci.image.manifest.v1+json'));
    expect(refused.code).toBe('REGISTRY_AUTH');
    expect(refused.exitCode).toBe(4);
    expect(refused.message).toContain(emu.registry);
    expect(refused.message).toContain('repository:models/x:pull,push');
    expect(refused.hint).toContain('push to');
    for (const text of [refused.message, refused.hint ?? '']) {
      expect(text).not.toContain(USERS.bob.password);
      expect(text).not.toMatch(/emu_[0-9a-f]{8}/);
    }

    const anonymous = await errorOf(client(emu).getManifest('models/x', 'v1'));
    expect(anonymous.code).toBe('REGISTRY_AUTH');
    expect(anonymous.message).toContain('repository:models/x:pull');

    const wrong = await errorOf(client(emu, { kind: 'basic', username: 'alice', password: 'not-the-Pa55word' }).getManifest('models/x', 'v1'));
    expect(wrong.code).toBe('REGISTRY_AUTH');
    expect(wrong.message).toContain('token service');
    expect(wrong.message).not.toContain('not-the-Pa55word');
  });

  it('asks the token service once per scope however many requests wait for it', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS, anonymousPull: ['public/*'] });
    const blob = emu.addBlob('public/m', randomBytes(1000));
    const c = client(emu);
    const sizes = await Promise.all(Array.from({ length: 12 }, () => c.headBlob('public/m', blob)));
    expect(sizes.every((s) => s?.size === 1000)).toBe(true);
    expect(emu.tokensIssued).toBe(1);
  });

  it('refreshes a token that expires during a long chunked upload (proactively, and on a 401)', async () => {
    // Announced 60 s, really valid 0.3 s: the cached token meets a 401 and is replaced once per expiry.
    const emu = await emulator({ auth: 'bearer', users: USERS, tokenValidSec: 0.3 });
    const blob = await makeBlob(200_000);
    const slowStore: UploadSessionStore = {
      load: () => Promise.resolve(undefined),
      save: () => new Promise((resolve) => setTimeout(resolve, 120)),
      remove: () => Promise.resolve(),
    };
    const result = await client(emu, alice).uploadBlob('models/long', uploadOf(blob, { chunkSize: 20_000, sessions: slowStore }));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.size, bytesResumed: 0 });
    expect(emu.blob(blob.digest)!.equals(blob.bytes)).toBe(true);
    const patch401 = emu.requests.filter((r) => r.method === 'PATCH' && r.status === 401);
    expect(patch401.length).toBeGreaterThan(0);
    expect(emu.tokensIssued).toBeGreaterThan(2);

    // Announced 2 s: renewed a fifth of its lifetime before expiry, so no request is refused.
    const proactive = await emulator({ auth: 'bearer', users: USERS, tokenLifetimeSec: 2 });
    const slowerStore: UploadSessionStore = { ...slowStore, save: () => new Promise((resolve) => setTimeout(resolve, 250)) };
    await client(proactive, alice).uploadBlob('models/long', uploadOf(blob, { chunkSize: 17_000, sessions: slowerStore }));
    expect(proactive.requests.filter((r) => r.server === 'registry' && r.status === 401 && r.method !== 'GET')).toEqual([]);
    expect(proactive.tokensIssued).toBeGreaterThanOrEqual(2); // renewed at least once
  });

  it('re-resolves an engine download whose token expired (refreshOnUnauthorized)', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS, tokenValidSec: 0.4 });
    const blob = await makeBlob(2 * 1024 * 1024);
    emu.addBlob('models/dl', blob.bytes);
    emu.setFaults({ blobDelayMs: 150 });
    const c = client(emu, bob);
    const { bytes } = await engineDownload(c.blobSource('models/dl', blob.digest), blob, { chunkSize: 128 * 1024 });
    expect(bytes.equals(blob.bytes)).toBe(true);
    const blobGets = emu.requests.filter((r) => r.server === 'registry' && r.method === 'GET' && r.url.includes('/blobs/'));
    expect(blobGets.some((r) => r.status === 401)).toBe(true);
    expect(emu.tokensIssued).toBeGreaterThan(1);
  });

  it('exchanges an identity token at the realm with a POST (oauth.md)', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS, identityTokens: { 'refresh-abc-123': 'alice' }, tokenField: 'access_token' });
    const blob = await makeBlob(1000);
    expect((await client(emu, { kind: 'identity-token', token: 'refresh-abc-123' }).uploadBlob('models/id', uploadOf(blob))).outcome).toBe('uploaded');
    expect(emu.requests.filter((r) => r.server === 'token').every((r) => r.method === 'POST' && !r.hasAuthorization)).toBe(true);
    const refused = await errorOf(client(emu, { kind: 'identity-token', token: 'refresh-wrong-456' }).headBlob('models/id', blob.digest));
    expect(refused.code).toBe('REGISTRY_AUTH');
    expect(refused.message).not.toContain('refresh-wrong-456');
  });

  it('sends a --registry-token as is, and a refused one is REGISTRY_AUTH without the token', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS, staticTokens: { 'static-Tok-0001': 'alice' } });
    const blob = await makeBlob(1000);
    expect((await client(emu, { kind: 'bearer', token: 'static-Tok-0001' }).uploadBlob('models/st', uploadOf(blob))).outcome).toBe('uploaded');
    expect(emu.requests.some((r) => r.server === 'token')).toBe(false);
    const refused = await errorOf(client(emu, { kind: 'bearer', token: 'static-Tok-9999' }).headBlob('models/st', blob.digest));
    expect(refused.code).toBe('REGISTRY_AUTH');
    expect(refused.message).not.toContain('static-Tok-9999');
    expect(refused.hint).toContain('--registry-token');
  });

  it('mounts across repositories with a token covering both', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS });
    const blob = await makeBlob(5000);
    const a = client(emu, alice);
    await a.uploadBlob('models/one', uploadOf(blob));
    expect(await a.uploadBlob('models/two', uploadOf(blob, { mountFrom: ['models/one'] }))).toEqual({ outcome: 'mounted', bytesSent: 0, bytesResumed: 0 });
    expect(emu.requests.some((r) => r.server === 'token' && decodeURIComponent(r.url).includes('scope=repository:models/one:pull'))).toBe(true);
  });
});

describe('Basic auth', () => {
  it('uses credentials from a docker config.json in HOME, and a wrong password is REGISTRY_AUTH without it', async () => {
    const emu = await emulator({ auth: 'basic', users: USERS });
    const home = path.join(dir, `home-${counter++}`);
    await mkdir(path.join(home, '.docker'), { recursive: true });
    const auth = Buffer.from(`alice:${USERS.alice.password}`).toString('base64');
    await writeFile(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [`http://${emu.registry}/v2/`]: { auth } } }));
    const settings = loadSettings({ env: { HOME: home }, cwd: dir });
    const credentials = await readRegistryCredentials({ registry: emu.registry, authFiles: settings.registry.authFiles });
    expect(credentials).toEqual(alice);

    const blob = await makeBlob(30_000);
    const c = client(emu, credentials);
    expect((await c.uploadBlob('models/basic', uploadOf(blob, { chunkSize: 10_000 }))).outcome).toBe('uploaded');
    expect((await c.getBlob('models/basic', blob.digest, 100_000)).equals(blob.bytes)).toBe(true);
    expect(emu.requests.filter((r) => r.hasAuthorization).every((r) => r.authScheme === 'basic')).toBe(true);

    const wrong = await errorOf(client(emu, { kind: 'basic', username: 'alice', password: 'Wrong-Pa55' }).headBlob('models/basic', blob.digest));
    expect(wrong.code).toBe('REGISTRY_AUTH');
    expect(wrong.message).toContain(emu.registry);
    expect(`${wrong.message} ${wrong.hint}`).not.toContain('Wrong-Pa55');
    expect(`${wrong.message} ${wrong.hint}`).not.toContain(Buffer.from('alice:Wrong-Pa55').toString('base64'));

    const none = await errorOf(client(emu).headBlob('models/basic', blob.digest));
    expect(none.code).toBe('REGISTRY_AUTH');
    expect(none.message).toContain('none were found');

    const forbidden = await errorOf(client(emu, bob).uploadBlob('models/basic', uploadOf(await makeBlob(10))));
    expect(forbidden.code).toBe('REGISTRY_AUTH');
    expect(forbidden.message).toContain('repository:models/basic:pull,push');
  });
});

describe('blobs behind a 307 to another origin', () => {
  it('sends no Authorization to the storage origin, and re-sends Range there', async () => {
    const emu = await emulator({ auth: 'bearer', users: USERS, redirectBlobs: true });
    const blob = await makeBlob(1024 * 1024 + 17);
    emu.addBlob('models/s3', blob.bytes);
    const c = client(emu, bob);
    const { bytes } = await engineDownload(c.blobSource('models/s3', blob.digest), blob);
    expect(bytes.equals(blob.bytes)).toBe(true);
    expect((await c.getBlob('models/s3', blob.digest, 2 * 1024 * 1024)).equals(blob.bytes)).toBe(true);

    const storage = emu.requests.filter((r) => r.server === 'storage');
    expect(storage.length).toBeGreaterThan(2);
    expect(storage.filter((r) => r.hasAuthorization)).toEqual([]);
    expect(storage.filter((r) => r.range !== undefined && r.status === 206).length).toBeGreaterThanOrEqual(4);
    // The registry itself saw the token on every blob request that was not the anonymous ping.
    expect(emu.requests.filter((r) => r.server === 'registry' && r.url.includes('/blobs/') && r.status === 307).every((r) => r.hasAuthorization)).toBe(true);
  });

  it('refuses bytes that do not match the digest (INTEGRITY), from getBlob and from the engine', async () => {
    const emu = await emulator({ redirectBlobs: true });
    const blob = await makeBlob(600_000);
    emu.addBlob('models/liar', blob.bytes);
    emu.setFaults({ lyingBlobs: [blob.digest] });
    const c = client(emu);
    const small = await errorOf(c.getBlob('models/liar', blob.digest, 1024 * 1024));
    expect(small.code).toBe('INTEGRITY');
    const engine = await errorOf(engineDownload(c.blobSource('models/liar', blob.digest), blob));
    expect(engine.code).toBe('INTEGRITY');
  });

  it('refuses a manifest whose bytes do not hash to the digest it was asked by (INTEGRITY)', async () => {
    const emu = await emulator({});
    const claimed = `sha256:${'c'.repeat(64)}`;
    emu.addManifest('models/m', claimed, Buffer.from('{"schemaVersion":2}'), 'application/vnd.oci.image.manifest.v1+json');
    const failure = await errorOf(client(emu).getManifest('models/m', claimed));
    expect(failure.code).toBe('INTEGRITY');
    expect(failure.message).toContain(claimed);
  });

  it('finishes an engine download whose blob connections drop', async () => {
    const emu = await emulator({ redirectBlobs: true });
    const blob = await makeBlob(1024 * 1024);
    emu.addBlob('models/drop', blob.bytes);
    emu.setFaults({ dropBlob: { afterBytes: 10_000, times: 3 } });
    const { bytes, result } = await engineDownload(client(emu).blobSource('models/drop', blob.digest), blob);
    expect(bytes.equals(blob.bytes)).toBe(true);
    expect(result.retries).toBeGreaterThan(0);
  });
});

describe('uploads against faults', () => {
  it('answers a 416 (out-of-order chunk) by asking the offset and continuing from there', async () => {
    const emu = await emulator({});
    emu.setFaults({ loseChunkTail: { bytes: 1000, times: 1 } });
    const blob = await makeBlob(100_000);
    const result = await client(emu).uploadBlob('models/ooo', uploadOf(blob, { chunkSize: 30_000 }));
    expect(result.outcome).toBe('uploaded');
    expect(emu.blob(blob.digest)!.equals(blob.bytes)).toBe(true);
    const patches = emu.requests.filter((r) => r.method === 'PATCH');
    expect(patches.some((r) => r.status === 416)).toBe(true);
    const i416 = emu.requests.findIndex((r) => r.status === 416);
    expect(emu.requests[i416 + 1]).toMatchObject({ method: 'GET', status: 204 });
    expect(patches.every((r) => /^\d+-\d+$/.test(r.contentRange ?? ''))).toBe(true);
  });

  it('resumes from the registry offset after a connection dropped mid-chunk and mid-PUT (bounded)', async () => {
    const emu = await emulator({});
    const warnings: string[] = [];
    const blob = await makeBlob(120_000);
    emu.setFaults({ dropUpload: { afterBytes: 15_000, times: 2 } });
    const chunked = await client(emu, undefined, warnings).uploadBlob('models/drop', uploadOf(blob, { chunkSize: 40_000 }));
    expect(chunked.outcome).toBe('uploaded');
    expect(chunked.bytesSent + chunked.bytesResumed).toBe(blob.size);
    expect(emu.blob(blob.digest)!.equals(blob.bytes)).toBe(true);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(emu.requests.filter((r) => r.method === 'GET' && r.url.includes('/uploads/')).length).toBeGreaterThanOrEqual(2);

    const mono = await makeBlob(80_000);
    emu.setFaults({ dropUpload: { afterBytes: 5_000, times: 1 } });
    expect((await client(emu).uploadBlob('models/drop', uploadOf(mono))).outcome).toBe('uploaded');
    expect(emu.blob(mono.digest)!.equals(mono.bytes)).toBe(true);

    // A connection that always drops: the upload gives up after bounded attempts.
    const never = await makeBlob(50_000);
    emu.setFaults({ dropUpload: { afterBytes: 1_000, times: 1000 } });
    const started = Date.now();
    const failure = await errorOf(client(emu).uploadBlob('models/drop', uploadOf(never, { chunkSize: 20_000 })));
    expect(failure.code).toMatch(/^NETWORK/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('finishes when the answer to a PATCH or to the final PUT is lost (the work was done)', async () => {
    const emu = await emulator({});
    const blob = await makeBlob(90_000);
    emu.setFaults({ loseAnswer: { method: 'PATCH', times: 1 } });
    const chunked = await client(emu).uploadBlob('models/lost', uploadOf(blob, { chunkSize: 30_000 }));
    expect(chunked).toEqual({ outcome: 'uploaded', bytesSent: blob.size, bytesResumed: 0 });
    // The lost chunk was stored: the client learned that from GET, and sent no byte twice.
    expect(emu.requests.filter((r) => r.method === 'PATCH').map((r) => r.contentRange)).toEqual(['0-29999', '30000-59999', '60000-89999']);

    for (const chunkSize of [0, 30_000]) {
      const other = await makeBlob(40_000);
      emu.resetRequests();
      emu.setFaults({ loseAnswer: { method: 'PUT', times: 1 } });
      expect((await client(emu).uploadBlob('models/lost', uploadOf(other, { chunkSize }))).outcome).toBe('uploaded');
      expect(emu.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
      expect(emu.requests.at(-1)).toMatchObject({ method: 'HEAD', status: 200 });
    }
  });

  it('runs 16 uploads on one shared signal without a listener warning, and stops them all when it aborts', async () => {
    const emu = await emulator({});
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    const shared = new AbortController();
    const c = createRegistryClient({ dispatcher, registry: emu.registry, insecure: true, signal: shared.signal });
    const blobs = await Promise.all(Array.from({ length: 16 }, () => makeBlob(40_000)));
    const results = await Promise.all(blobs.map((b) => c.uploadBlob('models/many', uploadOf(b, { chunkSize: 10_000, signal: shared.signal }))));
    expect(results.every((r) => r.outcome === 'uploaded')).toBe(true);

    emu.setFaults({ blobDelayMs: 0, status: [{ method: 'PATCH', status: 503, times: 1000 }] });
    const more = await Promise.all(Array.from({ length: 16 }, () => makeBlob(40_000)));
    const pending = more.map((b) => c.uploadBlob('models/many', uploadOf(b, { chunkSize: 10_000, signal: shared.signal })).then(() => 'done', (e: unknown) => e));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    shared.abort(new MlcacheError('INTERRUPTED', 'stopped by the test'));
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o instanceof MlcacheError && o.code === 'INTERRUPTED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('retries 5xx within bounds and then reports REGISTRY_ERROR', async () => {
    const emu = await emulator({});
    const warnings: string[] = [];
    emu.addManifest('models/flaky', 'v1', Buffer.from('{"schemaVersion":2}'), 'application/vnd.oci.image.manifest.v1+json');
    emu.setFaults({ status: [{ method: 'GET', pathIncludes: '/manifests/', status: 502, times: 2 }] });
    const c = client(emu, undefined, warnings);
    expect((await c.getManifest('models/flaky', 'v1')).bytes.toString()).toBe('{"schemaVersion":2}');
    expect(warnings.filter((w) => w.includes('502'))).toHaveLength(2);
    emu.setFaults({ status: [{ method: 'GET', pathIncludes: '/manifests/', status: 502, times: 100 }] });
    const failure = await errorOf(c.getManifest('models/flaky', 'v1'));
    expect(failure.code).toBe('REGISTRY_ERROR');
    expect(failure.message).toContain('502');
    expect(emu.requests.filter((r) => r.status === 502)).toHaveLength(2 + 5);
  });

  it('reports a layer over the registry\'s limit as LAYER_TOO_LARGE, and a manifest over 4 MiB as MANIFEST_TOO_LARGE', async () => {
    const emu = await emulator({ maxLayerBytes: 10_000 });
    const blob = await makeBlob(50_000);
    for (const chunkSize of [0, 8_000]) {
      const failure = await errorOf(client(emu).uploadBlob('models/big', uploadOf(blob, { chunkSize })));
      expect(failure.code).toBe('LAYER_TOO_LARGE');
      expect(failure.hint).toContain('GHCR allows 10 GB per layer');
    }
    emu.addManifest('models/big', 'huge', Buffer.alloc(4 * 1024 * 1024 + 10, 0x20), 'application/vnd.oci.image.manifest.v1+json');
    expect((await errorOf(client(emu).getManifest('models/big', 'huge'))).code).toBe('MANIFEST_TOO_LARGE');
  });
});

describe('what is not a registry, and plain HTTP', () => {
  it('says REGISTRY_UNSUPPORTED when /v2/ does not answer like a registry', async () => {
    const emu = await emulator({});
    const storageHost = new URL(emu.storageUrl).host;
    const failure = await errorOf(createRegistryClient({ dispatcher, registry: storageHost, insecure: true }).getManifest('a/b', 'v1'));
    expect(failure.code).toBe('REGISTRY_UNSUPPORTED');
  });

  it('fails fast with a registry hint when nothing listens', async () => {
    const registry = new URL(await closedPort()).host;
    const warnings: string[] = [];
    const started = Date.now();
    const failure = await errorOf(createRegistryClient({ dispatcher, registry, insecure: true, retryBaseDelayMs: 10, onWarning: (m) => warnings.push(m) }).headBlob('a/b', `sha256:${'1'.repeat(64)}`));
    expect(failure.code).toBe('NETWORK_REFUSED');
    expect(failure.hint).toContain('registry address');
    expect(warnings).toHaveLength(2); // two quick retries, as for the Hub
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses plain HTTP to a host that is neither loopback nor named by --insecure-registry', () => {
    expect(() => createRegistryClient({ dispatcher, registry: 'registry.example.com', insecure: true })).toThrow(
      expect.objectContaining({ code: 'INSECURE_REGISTRY', message: expect.stringContaining('registry.example.com') }),
    );
    expect(createRegistryClient({ dispatcher, registry: 'registry.example.com:5000', insecure: true, insecureHosts: ['registry.example.com'] }).baseUrl).toBe(
      'http://registry.example.com:5000',
    );
    expect(createRegistryClient({ dispatcher, registry: 'registry.example.com' }).baseUrl).toBe('https://registry.example.com');
    expect(createRegistryClient({ dispatcher, registry: 'docker.io' }).baseUrl).toBe('https://registry-1.docker.io');
  });
});
