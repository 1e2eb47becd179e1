/**
 * The registry emulator's storage origin, where blob GETs are redirected (like a registry on S3 or
 * GCS): it serves blobs by digest and refuses, loudly, any request that carries a credential.
 */
import type http from 'node:http';
import { serveBytes } from '../serve-blob.js';
import { sendError, type RegistryState } from '../state.js';

export async function handleStorage(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', state.storageUrl);
  if (req.headers.authorization !== undefined) {
    // A credential must never reach storage: fail loudly so a test cannot miss it.
    return sendError(res, 400, 'AUTHORIZATION_LEAKED', 'storage received an Authorization header');
  }
  const m = /^\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
  const bytes = m ? state.blobs.get(m[1]!) : undefined;
  if (!m || bytes === undefined) return sendError(res, 404, 'NOT_FOUND', 'no such object');
  await serveBytes(state, req, res, m[1]!, bytes);
}
