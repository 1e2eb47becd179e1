/**
 * A loopback OCI registry (distribution-spec v1.1 spec.md) on node:http, with a separate token
 * service (distribution docs/spec/auth/token.md, oauth.md) and a separate storage origin for blob
 * redirects: three servers, three origins, so credential leaks across origins are really tested.
 * Blobs and manifests live in memory. docs/emulator.md has the endpoints, the auth modes and the
 * faults.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRange } from '../range.js';
import type { RecordedRegistryRequest, RegistryEmulator, RegistryEmulatorOptions, RegistryFaults, RegistryServerName, RepositoryPattern } from './types.js';

/** distribution's `maxManifestBodySize`. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface Upload {
  repository: string;
  chunks: Buffer[];
  size: number;
  state: number;
}

interface IssuedToken {
  user: string | undefined;
  grants: Map<string, Set<string>>;
  expiresAt: number;
}

type Action = 'pull' | 'push';

export function repositoryMatches(pattern: RepositoryPattern, repository: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function createRegistryEmulator(options: RegistryEmulatorOptions = {}): Promise<RegistryEmulator> {
  const mode = options.auth ?? 'none';
  const users = options.users ?? {};
  const anonymousPull = options.anonymousPull ?? [];
  const service = options.service ?? 'mlcache-registry-emulator';
  const lifetimeSec = options.tokenLifetimeSec ?? 60;
  const validSec = Math.min(lifetimeSec, options.tokenValidSec ?? lifetimeSec);
  const host = options.host ?? '127.0.0.1';

  const blobs = new Map<string, Buffer>();
  const repositories = new Map<string, { blobs: Set<string>; manifests: Map<string, { bytes: Buffer; mediaType: string; digest: string }> }>();
  const uploads = new Map<string, Upload>();
  const tokens = new Map<string, IssuedToken>();
  const requests: RecordedRegistryRequest[] = [];
  let faults: RegistryFaults = {};
  let tokensIssued = 0;

  const repo = (name: string) => {
    let r = repositories.get(name);
    if (!r) {
      r = { blobs: new Set(), manifests: new Map() };
      repositories.set(name, r);
    }
    return r;
  };

  function record(server: RegistryServerName, req: http.IncomingMessage, res: http.ServerResponse): void {
    const authorization = req.headers.authorization;
    const entry: RecordedRegistryRequest = {
      server,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: req.headers.host,
      hasAuthorization: authorization !== undefined,
      authScheme: authorization?.split(' ')[0]?.toLowerCase(),
      range: req.headers.range,
      contentRange: req.headers['content-range'],
      status: 0,
    };
    requests.push(entry);
    const done = () => {
      entry.status = res.statusCode;
    };
    res.once('finish', done);
    res.once('close', done);
  }

  function userAllowed(user: string | undefined, repository: string, action: Action): boolean {
    if (user === undefined) return action === 'pull' && anonymousPull.some((p) => repositoryMatches(p, repository));
    const u = users[user];
    if (!u) return false;
    const patterns = (action === 'pull' ? u.pull : u.push) ?? ['*'];
    return patterns.some((p) => repositoryMatches(p, repository));
  }

  /** `user` for valid Basic credentials, null for invalid ones, undefined for none. */
  function basicUser(authorization: string | undefined): string | null | undefined {
    if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    return colon > 0 && users[name]?.password === password ? name : null;
  }

  let registryUrl = '';
  let tokenUrl = '';
  let storageUrl = '';

  /** Whether the request may do `actions` on `repository`; answers 401/403 itself when not. */
  function authorize(req: http.IncomingMessage, res: http.ServerResponse, repository: string, actions: Action[]): boolean {
    if (mode === 'none') return true;
    const authorization = req.headers.authorization;
    const scope = `repository:${repository}:${actions.join(',')}`;
    if (mode === 'basic') {
      const user = basicUser(authorization);
      if (user === null || (user === undefined && !actions.every((a) => userAllowed(undefined, repository, a)))) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="mlcache registry emulator"', 'content-type': 'application/json' });
        res.end(errorBody('UNAUTHORIZED', 'authentication required'));
        return false;
      }
      if (!actions.every((a) => userAllowed(user, repository, a))) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(errorBody('DENIED', 'requested access to the resource is denied'));
        return false;
      }
      return true;
    }
    // Bearer.
    const bearer = authorization !== undefined && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
    if (bearer !== undefined && options.staticTokens?.[bearer] !== undefined) {
      const user = options.staticTokens[bearer];
      if (actions.every((a) => userAllowed(user, repository, a))) return true;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(errorBody('DENIED', 'requested access to the resource is denied'));
      return false;
    }
    const issued = bearer !== undefined ? tokens.get(bearer) : undefined;
    if (issued !== undefined && Date.now() < issued.expiresAt && actions.every((a) => issued.grants.get(repository)?.has(a) === true)) return true;
    const error = issued === undefined ? 'invalid_token' : Date.now() >= issued.expiresAt ? 'invalid_token' : 'insufficient_scope';
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${tokenUrl}/token",service="${service}",scope="${scope}",error="${error}"`,
      'content-type': 'application/json',
    });
    res.end(errorBody('UNAUTHORIZED', 'authentication required'));
    return false;
  }

  /** A configured status fault for this request, answered here. */
  function statusFault(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const rules = faults.status ?? [];
    const rule = rules.find((r) => r.times > 0 && (r.method === undefined || r.method === req.method) && (r.pathIncludes === undefined || (req.url ?? '').includes(r.pathIncludes)));
    if (!rule) return false;
    rule.times--;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (rule.status === 429 || rule.status === 503) headers['retry-after'] = '0';
    res.writeHead(rule.status, headers);
    res.end(rule.status === 413 ? errorBody('SIZE_INVALID', 'blob exceeds the layer size limit') : errorBody('UNKNOWN', `injected ${rule.status}`));
    return true;
  }

  /** Send [start, end] of `bytes` (a lying blob inverted), cutting the connection if a fault says so. */
  async function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, digest: string, bytes: Buffer, extra: Record<string, string> = {}): Promise<void> {
    const delay = faults.blobDelayMs;
    if (delay !== undefined && delay > 0 && req.method === 'GET') await new Promise((resolve) => setTimeout(resolve, delay));
    const range = parseRange(req.headers.range, bytes.length);
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
      res.end();
      return;
    }
    const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, bytes.length - 1];
    let body = bytes.subarray(start, end + 1);
    if (faults.lyingBlobs?.includes(digest)) body = Buffer.from(body.map((b) => b ^ 0xff));
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      'docker-content-digest': digest,
      'accept-ranges': 'bytes',
      ...extra,
    };
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    res.writeHead(range.kind === 'range' ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = faults.dropBlob;
    if (drop && drop.times > 0 && body.length > drop.afterBytes) {
      drop.times--;
      res.write(body.subarray(0, drop.afterBytes), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  function uploadLocation(repository: string, id: string, absolute: boolean): string {
    const upload = uploads.get(id)!;
    return `${absolute ? registryUrl : ''}/v2/${repository}/blobs/uploads/${id}?_state=${upload.state}`;
  }

  function uploadRange(size: number): string {
    return `0-${Math.max(0, size - 1)}`;
  }

  function newUpload(repository: string): string {
    const id = randomBytes(8).toString('hex');
    uploads.set(id, { repository, chunks: [], size: 0, state: 0 });
    return id;
  }

  function sendError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(errorBody(code, message));
  }

  /** Read an upload body into the session, honouring dropUpload; false if the connection was cut. */
  async function receive(req: http.IncomingMessage, upload: Upload): Promise<boolean> {
    const drop = faults.dropUpload;
    const cut = drop && drop.times > 0 ? drop.afterBytes : undefined;
    let received = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (cut !== undefined && received + chunk.length >= cut) {
        drop!.times--; // only a request that is really cut uses up the fault
        const part = chunk.subarray(0, cut - received);
        upload.chunks.push(part);
        upload.size += part.length;
        req.socket.destroy();
        return false;
      }
      upload.chunks.push(chunk);
      upload.size += chunk.length;
      received += chunk.length;
    }
    return true;
  }

  /** Whether the loseAnswer fault takes this request: the work is done, the answer never sent. */
  function loseAnswer(method: string, res: http.ServerResponse): boolean {
    const fault = faults.loseAnswer;
    if (!fault || fault.times <= 0 || fault.method !== method) return false;
    fault.times--;
    res.socket?.destroy();
    return true;
  }

  function truncate(upload: Upload, size: number): void {
    const all = Buffer.concat(upload.chunks).subarray(0, size);
    upload.chunks = [all];
    upload.size = all.length;
  }

  async function handleRegistry(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', registryUrl);
    const method = req.method ?? 'GET';
    if (statusFault(req, res)) return;
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (mode === 'basic' && basicUser(req.headers.authorization) == null) {
        sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="mlcache registry emulator"' });
        return;
      }
      if (mode === 'bearer') {
        const bearer = req.headers.authorization?.replace(/^bearer /i, '');
        const ok = bearer !== undefined && (options.staticTokens?.[bearer] !== undefined || (tokens.get(bearer)?.expiresAt ?? 0) > Date.now());
        if (!ok) {
          sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${tokenUrl}/token",service="${service}"` });
          return;
        }
      }
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    const match = /^\/v2\/(.+?)\/(?:(blobs\/uploads)\/?([^/]*)|blobs\/([^/]+)|manifests\/([^/]+))$/.exec(url.pathname);
    if (!match) {
      sendError(res, 404, 'NAME_INVALID', 'no such endpoint');
      return;
    }
    const repository = match[1]!;
    const [, , uploadsPart, uploadId, blobDigest, reference] = match;

    if (uploadsPart !== undefined) {
      if (!authorize(req, res, repository, ['pull', 'push'])) return;
      if (uploadId === undefined || uploadId === '') {
        if (method !== 'POST') return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
        const mount = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        if (mount !== null && from !== null) {
          const canPull = mode === 'none' || mayPullFrom(req, from);
          if (canPull && repositories.get(from)?.blobs.has(mount) === true) {
            repo(repository).blobs.add(mount);
            res.writeHead(201, { location: `/v2/${repository}/blobs/${mount}`, 'docker-content-digest': mount, 'content-length': '0' });
            res.end();
            return;
          }
        }
        const id = newUpload(repository);
        res.writeHead(202, { location: uploadLocation(repository, id, false), range: '0-0', 'docker-upload-uuid': id, 'content-length': '0' });
        res.end();
        return;
      }
      const upload = uploads.get(uploadId);
      if (upload === undefined || upload.repository !== repository) return sendError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
      if (!url.searchParams.has('_state')) return sendError(res, 400, 'BLOB_UPLOAD_INVALID', 'the upload URL lost its _state query parameter');
      if (method === 'GET') {
        res.writeHead(204, { location: uploadLocation(repository, uploadId, true), range: uploadRange(upload.size), 'docker-upload-uuid': uploadId });
        res.end();
        return;
      }
      if (method === 'DELETE') {
        uploads.delete(uploadId);
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === 'PATCH') {
        const contentRange = req.headers['content-range'];
        const declared = Number(req.headers['content-length'] ?? NaN);
        if (contentRange !== undefined) {
          const m = /^(\d+)-(\d+)$/.exec(contentRange);
          if (!m || Number(m[1]) !== upload.size) {
            // Out of order (spec.md: 416 with the Range the registry holds).
            res.writeHead(416, { location: uploadLocation(repository, uploadId, true), range: uploadRange(upload.size), 'content-type': 'application/json', connection: 'close' });
            res.end(errorBody('BLOB_UPLOAD_INVALID', 'out of order chunk'));
            return;
          }
        }
        if (options.maxLayerBytes !== undefined && upload.size + (Number.isFinite(declared) ? declared : 0) > options.maxLayerBytes) {
          return sendError(res, 413, 'SIZE_INVALID', `layer exceeds the ${options.maxLayerBytes}-byte limit`, { connection: 'close' });
        }
        const complete = await receive(req, upload);
        if (!complete) return;
        upload.state++;
        const claimed = upload.size;
        const lose = faults.loseChunkTail;
        if (lose && lose.times > 0) {
          lose.times--;
          truncate(upload, Math.max(0, upload.size - lose.bytes));
        }
        if (loseAnswer('PATCH', res)) return;
        res.writeHead(202, { location: uploadLocation(repository, uploadId, true), range: uploadRange(claimed), 'docker-upload-uuid': uploadId, 'content-length': '0' });
        res.end();
        return;
      }
      if (method === 'PUT') {
        const digest = url.searchParams.get('digest');
        const declared = Number(req.headers['content-length'] ?? 0);
        if (options.maxLayerBytes !== undefined && upload.size + declared > options.maxLayerBytes) {
          return sendError(res, 413, 'SIZE_INVALID', `layer exceeds the ${options.maxLayerBytes}-byte limit`, { connection: 'close' });
        }
        const complete = await receive(req, upload);
        if (!complete) return;
        const bytes = Buffer.concat(upload.chunks);
        uploads.delete(uploadId);
        if (digest === null || !DIGEST.test(digest) || sha256(bytes) !== digest) {
          return sendError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
        }
        blobs.set(digest, bytes);
        repo(repository).blobs.add(digest);
        if (loseAnswer('PUT', res)) return;
        res.writeHead(201, { location: `/v2/${repository}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
        res.end();
        return;
      }
      return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
    }

    if (blobDigest !== undefined) {
      if (method === 'DELETE' || (method !== 'GET' && method !== 'HEAD')) return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
      if (!authorize(req, res, repository, ['pull'])) return;
      const bytes = repositories.get(repository)?.blobs.has(blobDigest) === true ? blobs.get(blobDigest) : undefined;
      if (bytes === undefined) {
        if (method === 'HEAD') {
          res.writeHead(404);
          res.end();
          return;
        }
        return sendError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      }
      if (method === 'GET' && options.redirectBlobs === true) {
        res.writeHead(307, { location: `${storageUrl}/blobs/${blobDigest}?X-Amz-Signature=emulated`, 'content-length': '0' });
        res.end();
        return;
      }
      await serveBytes(req, res, blobDigest, bytes);
      return;
    }

    // Manifests.
    const ref = reference!;
    if (method === 'GET' || method === 'HEAD') {
      if (!authorize(req, res, repository, ['pull'])) return;
      const manifest = repositories.get(repository)?.manifests.get(ref);
      if (manifest === undefined) {
        if (method === 'HEAD') {
          res.writeHead(404);
          res.end();
          return;
        }
        return sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      }
      res.writeHead(200, { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length), 'docker-content-digest': manifest.digest });
      res.end(method === 'HEAD' ? undefined : manifest.bytes);
      return;
    }
    if (method === 'PUT') {
      if (!authorize(req, res, repository, ['pull', 'push'])) return;
      const bytes = await readBody(req, MAX_MANIFEST_BYTES);
      if (bytes === undefined) return sendError(res, 413, 'SIZE_INVALID', 'manifest over 4 MiB', { connection: 'close' });
      const mediaType = req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json';
      try {
        JSON.parse(bytes.toString('utf8'));
      } catch {
        return sendError(res, 400, 'MANIFEST_INVALID', 'manifest invalid');
      }
      const digest = sha256(bytes);
      if (DIGEST.test(ref) && ref !== digest) return sendError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
      const entry = { bytes, mediaType, digest };
      repo(repository).manifests.set(ref, entry);
      repo(repository).manifests.set(digest, entry);
      res.writeHead(201, { location: `/v2/${repository}/manifests/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
      res.end();
      return;
    }
    sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
  }

  function mayPullFrom(req: http.IncomingMessage, from: string): boolean {
    const authorization = req.headers.authorization;
    if (mode === 'basic') return userAllowed(basicUser(authorization) ?? undefined, from, 'pull');
    const bearer = authorization?.replace(/^bearer /i, '');
    if (bearer === undefined) return false;
    const staticUser = options.staticTokens?.[bearer];
    if (staticUser !== undefined) return userAllowed(staticUser, from, 'pull');
    return tokens.get(bearer)?.grants.get(from)?.has('pull') === true;
  }

  async function handleToken(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', tokenUrl);
    if (url.pathname !== '/token') return sendError(res, 404, 'NOT_FOUND', 'no such endpoint');
    let user: string | undefined;
    let scopes: string[];
    let requestedService: string | null;
    if (req.method === 'POST') {
      const body = await readBody(req, 64 * 1024);
      const form = new URLSearchParams(body?.toString('utf8') ?? '');
      if (form.get('grant_type') !== 'refresh_token') return sendError(res, 400, 'UNSUPPORTED', 'only grant_type=refresh_token is supported');
      user = options.identityTokens?.[form.get('refresh_token') ?? ''];
      if (user === undefined) return sendError(res, 401, 'UNAUTHORIZED', 'invalid refresh token');
      scopes = (form.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
      requestedService = form.get('service');
    } else {
      const basic = basicUser(req.headers.authorization);
      if (basic === null) return sendError(res, 401, 'UNAUTHORIZED', 'invalid username or password');
      user = basic;
      scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s.length > 0);
      requestedService = url.searchParams.get('service');
    }
    if (requestedService !== service) return sendError(res, 400, 'UNSUPPORTED', 'unknown service');
    const grants = new Map<string, Set<string>>();
    for (const scope of scopes) {
      const m = /^repository:(.+):([a-z,*]+)$/.exec(scope);
      if (!m) continue;
      const name = m[1]!;
      const allowed = m[2]!.split(',').filter((a): a is Action => (a === 'pull' || a === 'push') && userAllowed(user, name, a));
      if (allowed.length > 0) grants.set(name, new Set([...(grants.get(name) ?? []), ...allowed]));
    }
    const token = `emu_${randomBytes(16).toString('hex')}`;
    tokens.set(token, { user, grants, expiresAt: Date.now() + validSec * 1000 });
    tokensIssued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [options.tokenField ?? 'token']: token, expires_in: lifetimeSec, issued_at: new Date().toISOString() }));
  }

  async function handleStorage(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', storageUrl);
    if (req.headers.authorization !== undefined) {
      // A credential must never reach storage: fail loudly so a test cannot miss it.
      return sendError(res, 400, 'AUTHORIZATION_LEAKED', 'storage received an Authorization header');
    }
    const m = /^\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const bytes = m ? blobs.get(m[1]!) : undefined;
    if (!m || bytes === undefined) return sendError(res, 404, 'NOT_FOUND', 'no such object');
    await serveBytes(req, res, m[1]!, bytes);
  }

  const wrap =
    (server: RegistryServerName, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>) =>
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      record(server, req, res);
      Promise.resolve(handler(req, res)).catch(() => {
        if (!res.headersSent) sendError(res, 500, 'UNKNOWN', 'emulator error');
        else res.destroy();
      });
    };

  const registryServer = http.createServer(wrap('registry', handleRegistry));
  const tokenServer = http.createServer(wrap('token', handleToken));
  const storageServer = http.createServer(wrap('storage', handleStorage));
  const servers = [registryServer, tokenServer, storageServer];
  const [registryPort, tokenPort, storagePort] = await Promise.all(servers.map((s) => listen(s, host)));
  registryUrl = `http://${host}:${registryPort}`;
  tokenUrl = `http://${host}:${tokenPort}`;
  storageUrl = `http://${host}:${storagePort}`;

  return {
    url: registryUrl,
    registry: `${host}:${registryPort}`,
    tokenUrl,
    storageUrl,
    requests,
    get tokensIssued() {
      return tokensIssued;
    },
    setFaults(next) {
      faults = next;
    },
    blob: (digest) => blobs.get(digest),
    manifest: (repository, reference) => repositories.get(repository)?.manifests.get(reference),
    addBlob(repository, bytes) {
      const digest = sha256(bytes);
      blobs.set(digest, bytes);
      repo(repository).blobs.add(digest);
      return digest;
    },
    addManifest(repository, tag, bytes, mediaType) {
      const digest = sha256(bytes);
      const entry = { bytes, mediaType, digest };
      repo(repository).manifests.set(tag, entry);
      repo(repository).manifests.set(digest, entry);
      return digest;
    },
    uploadSize: (id) => uploads.get(id)?.size,
    resetRequests() {
      requests.length = 0;
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
