/**
 * The registry emulator's blob uploads (distribution-spec spec.md "Pushing blobs"): POST to open a
 * session or mount a blob from another repository, PATCH chunks in order (416 with the held Range
 * otherwise), PUT to close with the digest, GET for the status, DELETE to cancel; with the upload
 * faults (dropped bodies, a lost chunk tail, a lost answer) and the layer size limit.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { authorize, mayPullFrom } from '../access.js';
import { loseAnswer } from '../faults.js';
import { DIGEST, errorBody, repositoryOf, sendError, sha256, type RegistryState, type Upload } from '../state.js';

function uploadLocation(state: RegistryState, repository: string, id: string, absolute: boolean): string {
  const upload = state.uploads.get(id)!;
  return `${absolute ? state.registryUrl : ''}/v2/${repository}/blobs/uploads/${id}?_state=${upload.state}`;
}

function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}


function newUpload(state: RegistryState, repository: string): string {
  const id = randomBytes(8).toString('hex');
  state.uploads.set(id, { repository, chunks: [], size: 0, state: 0 });
  return id;
}

/** Read an upload body into the session, honouring dropUpload; false if the connection was cut. */
async function receive(state: RegistryState, req: http.IncomingMessage, upload: Upload): Promise<boolean> {
  const drop = state.faults.dropUpload;
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

function truncate(upload: Upload, size: number): void {
  const all = Buffer.concat(upload.chunks).subarray(0, size);
  upload.chunks = [all];
  upload.size = all.length;
}

/** `/v2/<repository>/blobs/uploads/[<id>]`: `uploadId` is empty or undefined for the POST that opens a session. */
export async function handleUploads(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse, url: URL, repository: string, uploadId: string | undefined): Promise<void> {
  const { options, uploads, repositories } = state;
  const method = req.method ?? 'GET';
  if (!authorize(state, req, res, repository, ['pull', 'push'])) return;
  if (uploadId === undefined || uploadId === '') {
    if (method !== 'POST') return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
    const mount = url.searchParams.get('mount');
    const from = url.searchParams.get('from');
    if (mount !== null && from !== null) {
      const canPull = state.mode === 'none' || mayPullFrom(state, req, from);
      if (canPull && repositories.get(from)?.blobs.has(mount) === true) {
        repositoryOf(state, repository).blobs.add(mount);
        res.writeHead(201, { location: `/v2/${repository}/blobs/${mount}`, 'docker-content-digest': mount, 'content-length': '0' });
        res.end();
        return;
      }
    }
    const id = newUpload(state, repository);
    res.writeHead(202, { location: uploadLocation(state, repository, id, false), range: '0-0', 'docker-upload-uuid': id, 'content-length': '0' });
    res.end();
    return;
  }
  const upload = uploads.get(uploadId);
  if (upload === undefined || upload.repository !== repository) return sendError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
  if (!url.searchParams.has('_state')) return sendError(res, 400, 'BLOB_UPLOAD_INVALID', 'the upload URL lost its _state query parameter');
  if (method === 'GET') {
    res.writeHead(204, { location: uploadLocation(state, repository, uploadId, true), range: uploadRange(upload.size), 'docker-upload-uuid': uploadId });
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
        res.writeHead(416, { location: uploadLocation(state, repository, uploadId, true), range: uploadRange(upload.size), 'content-type': 'application/json', connection: 'close' });
        res.end(errorBody('BLOB_UPLOAD_INVALID', 'out of order chunk'));
        return;
      }
    }
    if (options.maxLayerBytes !== undefined && upload.size + (Number.isFinite(declared) ? declared : 0) > options.maxLayerBytes) {
      return sendError(res, 413, 'SIZE_INVALID', `layer exceeds the ${options.maxLayerBytes}-byte limit`, { connection: 'close' });
    }
    const complete = await receive(state, req, upload);
    if (!complete) return;
    upload.state++;
    const claimed = upload.size;
    const lose = state.faults.loseChunkTail;
    if (lose && lose.times > 0) {
      lose.times--;
      truncate(upload, Math.max(0, upload.size - lose.bytes));
    }
    if (loseAnswer(state, 'PATCH', res)) return;
    res.writeHead(202, { location: uploadLocation(state, repository, uploadId, true), range: uploadRange(claimed), 'docker-upload-uuid': uploadId, 'content-length': '0' });
    res.end();
    return;
  }
  if (method === 'PUT') {
    const digest = url.searchParams.get('digest');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (options.maxLayerBytes !== undefined && upload.size + declared > options.maxLayerBytes) {
      return sendError(res, 413, 'SIZE_INVALID', `layer exceeds the ${options.maxLayerBytes}-byte limit`, { connection: 'close' });
    }
    const complete = await receive(state, req, upload);
    if (!complete) return;
    const bytes = Buffer.concat(upload.chunks);
    uploads.delete(uploadId);
    if (digest === null || !DIGEST.test(digest) || sha256(bytes) !== digest) {
      return sendError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
    }
    state.blobs.set(digest, bytes);
    repositoryOf(state, repository).blobs.add(digest);
    if (loseAnswer(state, 'PUT', res)) return;
    res.writeHead(201, { location: `/v2/${repository}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
    res.end();
    return;
  }
  return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
}
