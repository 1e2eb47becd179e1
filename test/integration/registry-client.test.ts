/**
 * The registry client against a REAL registry: Debian's docker-registry (CNCF distribution 2.8.2)
 * on loopback, plus skopeo as an outside reader.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransferEngine } from '../../src/download/index.js';
import { MlcacheError } from '../../src/errors.js';
import { loadSettings } from '../../src/config/settings.js';
import { createRegistryClient, readRegistryCredentials, uploadSessionKey, type BlobUpload, type UploadSessionStore } from '../../src/registry/index.js';
import { REAL_REGISTRY_PASSWORD, REAL_REGISTRY_USER, useRealRegistry } from '../helpers/real-registry.js';

const run = promisify(execFile);
const real = useRealRegistry();
let dispatcher: Agent;
let dir: string;

beforeAll(async () => {
  dispatcher = new Agent({ connections: 8 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-reg-client-'));
});
afterAll(async () => {
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

function client() {
  return createRegistryClient({ dispatcher, registry: real().registry, insecure: true, retryBaseDelayMs: 20 });
}

interface Blob {
  file: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

async function makeBlob(name: string, size: number): Promise<Blob> {
  const bytes = randomBytes(size);
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return { file, bytes, size, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

function uploadOf(blob: Blob, extra: Partial<BlobUpload> = {}): BlobUpload {
  return { digest: blob.digest, size: blob.size, open: (start) => createReadStream(blob.file, { start }), ...extra };
}

function memoryStore(): UploadSessionStore & { map: Map<string, string>; saves: number } {
  const map = new Map<string, string>();
  const store = {
    map,
    saves: 0,
    load: (key: string) => Promise.resolve(map.get(key)),
    save: (key: string, url: string) => {
      store.saves++;
      map.set(key, url);
      return Promise.resolve();
    },
    remove: (key: string) => {
      map.delete(key);
      return Promise.resolve();
    },
  };
  return store;
}

async function fetchBlob(repository: string, digest: string): Promise<Buffer> {
  const response = await fetch(`${real().url}/v2/${repository}/blobs/${digest}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('registry client against docker-registry (distribution 2.8.2)', () => {
  it('pushes a blob monolithically, HEADs it, and a second push finds it there', async () => {
    const c = client();
    const blob = await makeBlob('mono.bin', 300_000);
    expect(await c.headBlob('models/mono', blob.digest)).toBeUndefined();
    const progress: number[] = [];
    const result = await c.uploadBlob('models/mono', uploadOf(blob, { onProgress: (n) => progress.push(n) }));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.size, bytesResumed: 0 });
    expect(progress.at(-1)).toBe(blob.size);
    expect(await c.headBlob('models/mono', blob.digest)).toEqual({ size: blob.size });
    expect((await fetchBlob('models/mono', blob.digest)).equals(blob.bytes)).toBe(true);
    expect(await c.uploadBlob('models/mono', uploadOf(blob))).toEqual({ outcome: 'exists', bytesSent: 0, bytesResumed: 0 });
  });

  it('pushes a blob in PATCH chunks, saving the session after each chunk and forgetting it at the end', async () => {
    const c = client();
    const blob = await makeBlob('chunked.bin', 250_000);
    const sessions = memoryStore();
    const result = await c.uploadBlob('models/chunked', uploadOf(blob, { chunkSize: 64 * 1024, sessions }));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.size, bytesResumed: 0 });
    expect(sessions.saves).toBe(4); // ceil(250000 / 65536)
    expect(sessions.map.size).toBe(0);
    expect((await fetchBlob('models/chunked', blob.digest)).equals(blob.bytes)).toBe(true);
  });

  it('pushes an empty blob', async () => {
    const c = client();
    const blob = await makeBlob('empty.bin', 0);
    expect((await c.uploadBlob('models/empty', uploadOf(blob))).outcome).toBe('uploaded');
    expect(await c.headBlob('models/empty', blob.digest)).toEqual({ size: 0 });
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const c = client();
    const blob = await makeBlob('mount.bin', 100_000);
    await c.uploadBlob('models/source', uploadOf(blob));
    const result = await c.uploadBlob('models/target', uploadOf(blob, { mountFrom: ['models/nothing-here', 'models/source'] }));
    // The first candidate does not hold it (202, a session) — distribution then answers with a
    // session, which the client uses to upload; or it mounts from the second. Either way the blob
    // is there, and a direct mount from the holder is a mount.
    expect(['mounted', 'uploaded']).toContain(result.outcome);
    const direct = await c.uploadBlob('models/target2', uploadOf(blob, { mountFrom: ['models/source'] }));
    expect(direct).toEqual({ outcome: 'mounted', bytesSent: 0, bytesResumed: 0 });
    expect((await fetchBlob('models/target2', blob.digest)).equals(blob.bytes)).toBe(true);
  });

  it('puts and gets a manifest with artifactType, and skopeo reads the same bytes', async () => {
    const c = client();
    const config = Buffer.from('{}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const configFile = path.join(dir, 'config.json');
    await writeFile(configFile, config);
    await c.uploadBlob('models/artifact', { digest: configDigest, size: config.length, open: (start) => createReadStream(configFile, { start }) });
    const layer = await makeBlob('layer.bin', 5000);
    await c.uploadBlob('models/artifact', uploadOf(layer));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.cncf.model.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: config.length },
        layers: [
          {
            mediaType: 'application/vnd.cncf.model.weight.v1.raw',
            digest: layer.digest,
            size: layer.size,
            annotations: { 'org.cncf.model.filepath': 'model.safetensors', 'org.opencontainers.image.title': 'model.safetensors' },
          },
        ],
        annotations: { 'org.opencontainers.image.source': 'https://huggingface.co/org/Model' },
      }),
    );
    const mediaType = 'application/vnd.oci.image.manifest.v1+json';
    const { digest } = await c.putManifest('models/artifact', 'v1', manifest, mediaType);
    expect(digest).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);

    const got = await c.getManifest('models/artifact', 'v1');
    expect(got.digest).toBe(digest);
    expect(got.mediaType).toBe(mediaType);
    expect(got.bytes.equals(manifest)).toBe(true);
    expect((await c.getManifest('models/artifact', digest)).bytes.equals(manifest)).toBe(true);
    expect(await c.headManifest('models/artifact', 'v1')).toEqual({ digest, mediaType, size: manifest.length });
    expect(await c.headManifest('models/artifact', 'missing')).toBeUndefined();
    expect((await c.getBlob('models/artifact', configDigest, 1024)).equals(config)).toBe(true);

    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${real().registry}/models/artifact:v1`], { timeout: 30_000 });
    expect(Buffer.from(stdout).equals(manifest)).toBe(true);
    expect(JSON.parse(stdout).artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
  });

  it('names what is missing: MANIFEST_NOT_FOUND, BLOB_NOT_FOUND', async () => {
    const c = client();
    await expect(c.getManifest('models/never-pushed', 'main')).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    const missing = `sha256:${'0'.repeat(64)}`;
    await expect(c.getBlob('models/never-pushed', missing, 100)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect(await c.headBlob('models/never-pushed', missing)).toBeUndefined();
  });

  it('refuses a manifest over 4 MiB before sending it', async () => {
    const c = client();
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const error = await c.putManifest('models/big', 'v1', big, 'application/vnd.oci.image.manifest.v1+json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlcacheError);
    expect((error as MlcacheError).code).toBe('MANIFEST_TOO_LARGE');
  });

  it('gives the transfer engine a blobSource it downloads in ranges, verified by digest', async () => {
    const c = client();
    const blob = await makeBlob('engine.bin', 3 * 1024 * 1024 + 123);
    await c.uploadBlob('models/engine', uploadOf(blob, { chunkSize: 1024 * 1024 }));
    const engine = createTransferEngine({ dispatcher, chunkThreshold: 1024 * 1024, chunkSize: 512 * 1024, connections: 4 });
    const destination = path.join(dir, 'engine-out.bin');
    try {
      const result = await engine.download({
        id: destination,
        label: 'models/engine: engine.bin',
        size: blob.size,
        digest: { algorithm: 'sha256', hex: blob.digest.slice('sha256:'.length) },
        resolve: c.blobSource('models/engine', blob.digest),
        destination,
      });
      expect(result.bytesTransferred).toBe(blob.size);
    } finally {
      await engine.close();
    }
    expect((await readFile(destination)).equals(blob.bytes)).toBe(true);
  });

  it('resumes an aborted chunked upload from the registry\'s offset with the session store', async () => {
    const blob = await makeBlob('resume.bin', 400_000);
    const sessions = memoryStore();
    const controller = new AbortController();
    const chunkSize = 64 * 1024;
    // Abort once two chunks are stored (after the second save).
    const stopping: UploadSessionStore = {
      load: (key) => sessions.load(key),
      remove: (key) => sessions.remove(key),
      save: async (key, url) => {
        await sessions.save(key, url);
        if (sessions.saves === 2) controller.abort(new MlcacheError('INTERRUPTED', 'stopped by the test'));
      },
    };
    const first = await client()
      .uploadBlob('models/resume', uploadOf(blob, { chunkSize, sessions: stopping, signal: controller.signal }))
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'INTERRUPTED' });
    expect(sessions.map.get(uploadSessionKey(real().registry, 'models/resume', blob.digest))).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2\/models\/resume\/blobs\/uploads\//);

    const second = await client().uploadBlob('models/resume', uploadOf(blob, { chunkSize, sessions }));
    expect(second).toEqual({ outcome: 'uploaded', bytesSent: blob.size - 2 * chunkSize, bytesResumed: 2 * chunkSize });
    expect(sessions.map.size).toBe(0);
    expect((await fetchBlob('models/resume', blob.digest)).equals(blob.bytes)).toBe(true);
  });

  it('finishes an upload that was cut in the middle of a chunk (the registry\'s session, or a fresh one)', async () => {
    const blob = await makeBlob('cut.bin', 600_000);
    const sessions = memoryStore();
    const controller = new AbortController();
    const chunkSize = 128 * 1024;
    const first = await client()
      .uploadBlob(
        'models/cut',
        uploadOf(blob, {
          chunkSize,
          sessions,
          signal: controller.signal,
          onProgress: (sent) => {
            if (sent > chunkSize * 2 + chunkSize / 2) controller.abort(new MlcacheError('INTERRUPTED', 'cut by the test'));
          },
        }),
      )
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'INTERRUPTED' });
    const second = await client().uploadBlob('models/cut', uploadOf(blob, { chunkSize, sessions }));
    expect(second.outcome).toBe('uploaded');
    expect(second.bytesSent + second.bytesResumed).toBe(blob.size);
    expect((await fetchBlob('models/cut', blob.digest)).equals(blob.bytes)).toBe(true);
  });

  it('refuses a file whose bytes do not match the digest it is pushed under (INTEGRITY), chunked and monolithic', async () => {
    const c = client();
    const blob = await makeBlob('liar.bin', 100_000);
    const wrong = `sha256:${'a'.repeat(64)}`;
    await expect(c.uploadBlob('models/liar', { ...uploadOf(blob), digest: wrong, chunkSize: 32 * 1024 })).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(c.uploadBlob('models/liar', { ...uploadOf(blob), digest: wrong })).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await c.headBlob('models/liar', wrong)).toBeUndefined();
  });
});

describe('docker-registry with htpasswd Basic auth', () => {
  const secured = useRealRegistry({ basicAuth: true });

  it('pushes with credentials from a containers auth.json named by REGISTRY_AUTH_FILE; skopeo reads the result', async () => {
    const authFile = path.join(dir, 'auth.json');
    const auth = Buffer.from(`${REAL_REGISTRY_USER}:${REAL_REGISTRY_PASSWORD}`).toString('base64');
    await writeFile(authFile, JSON.stringify({ auths: { [secured().registry]: { auth } } }));
    const settings = loadSettings({ env: { HOME: path.join(dir, 'no-home'), REGISTRY_AUTH_FILE: authFile }, cwd: dir });
    const credentials = await readRegistryCredentials({ registry: secured().registry, authFiles: settings.registry.authFiles });
    expect(credentials).toEqual({ kind: 'basic', username: REAL_REGISTRY_USER, password: REAL_REGISTRY_PASSWORD });

    const c = createRegistryClient({ dispatcher, registry: secured().registry, insecure: true, credentials });
    const blob = await makeBlob('secured.bin', 150_000);
    expect((await c.uploadBlob('models/secured', uploadOf(blob, { chunkSize: 64 * 1024 }))).outcome).toBe('uploaded');
    const config = Buffer.from('{}');
    const configFile = path.join(dir, 'secured-config.json');
    await writeFile(configFile, config);
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    await c.uploadBlob('models/secured', { digest: configDigest, size: 2, open: (start) => createReadStream(configFile, { start }) });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.cncf.model.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 },
        layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: blob.digest, size: blob.size }],
      }),
    );
    await c.putManifest('models/secured', 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const { stdout } = await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', '--creds', `${REAL_REGISTRY_USER}:${REAL_REGISTRY_PASSWORD}`, `docker://${secured().registry}/models/secured:v1`],
      { timeout: 30_000 },
    );
    expect(Buffer.from(stdout).equals(manifest)).toBe(true);
  });

  it('names the host and scope when credentials are missing or wrong, never the password', async () => {
    const missing = await createRegistryClient({ dispatcher, registry: secured().registry, insecure: true })
      .getManifest('models/secured', 'v1')
      .then(() => undefined, (e: unknown) => e as MlcacheError);
    if (missing === undefined) throw new Error('expected REGISTRY_AUTH');
    expect(missing).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(missing.message).toContain(secured().registry);
    expect(missing.message).toContain('repository:models/secured:pull');

    const wrong = await createRegistryClient({ dispatcher, registry: secured().registry, insecure: true, credentials: { kind: 'basic', username: REAL_REGISTRY_USER, password: 'Wrong-Pa55-word' } })
      .headBlob('models/secured', `sha256:${'2'.repeat(64)}`)
      .then(() => undefined, (e: unknown) => e as MlcacheError);
    if (wrong === undefined) throw new Error('expected REGISTRY_AUTH');
    expect(wrong).toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(`${wrong.message} ${wrong.hint}`).not.toContain('Wrong-Pa55-word');
  });
});
