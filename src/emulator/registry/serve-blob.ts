/**
 * Blob bytes on the wire, from the registry or the storage origin: Range (RFC 9110 §14) with 206 /
 * 416, and the blob faults — a delay, a lying blob (every byte inverted) and a cut connection.
 */
import type http from 'node:http';
import { parseRange } from '../range.js';
import type { RegistryState } from './state.js';

/** Send [start, end] of `bytes` (a lying blob inverted), cutting the connection if a fault says so. */
export async function serveBytes(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse, digest: string, bytes: Buffer, extra: Record<string, string> = {}): Promise<void> {
  const delay = state.faults.blobDelayMs;
  if (delay !== undefined && delay > 0 && req.method === 'GET') await new Promise((resolve) => setTimeout(resolve, delay));
  const range = parseRange(req.headers.range, bytes.length);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    res.end();
    return;
  }
  const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, bytes.length - 1];
  let body = bytes.subarray(start, end + 1);
  if (state.faults.lyingBlobs?.includes(digest)) body = Buffer.from(body.map((b) => b ^ 0xff));
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
  const drop = state.faults.dropBlob;
  if (drop && drop.times > 0 && body.length > drop.afterBytes) {
    drop.times--;
    res.write(body.subarray(0, drop.afterBytes), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}
