/**
 * File bytes on the wire, for the hub's direct files and the CDN's blobs alike: Range requests
 * (RFC 9110 §14), the bandwidth caps, backpressure, and the body faults (drop, stall, corrupt,
 * short body, wrong lengths and Content-Range) the fault engine picks for the request.
 */
import type { Socket } from 'node:net';
import { readRange, readResized, type ContentSource } from './content.js';
import { TokenBucket, throttleSliceSize } from './faults.js';
import { parseRange } from './range.js';
import { head, s3Error, sendBody } from './respond.js';
import { sleep, type EmulatorState, type RequestContext } from './state.js';
import type { FaultAction } from './types.js';

export interface ContentOptions {
  headers: Record<string, string>;
}

function sliceSize(state: EmulatorState): number {
  const f = state.engine.settings;
  return throttleSliceSize([f.perConnectionBytesPerSec, f.aggregateBytesPerSec]);
}

function throttleWait(state: EmulatorState, socket: Socket | null, bytes: number): number {
  const f = state.engine.settings;
  const now = performance.now();
  let wait = 0;
  const perRate = f.perConnectionBytesPerSec;
  if (socket && perRate && perRate > 0) {
    let bucket = state.perConnection.get(socket);
    if (!bucket || bucket.bytesPerSec !== perRate) {
      bucket = new TokenBucket(perRate);
      state.perConnection.set(socket, bucket);
    }
    wait = Math.max(wait, bucket.reserve(bytes, now));
  }
  const aggRate = f.aggregateBytesPerSec;
  if (aggRate && aggRate > 0) {
    if (!state.aggregate || state.aggregate.bytesPerSec !== aggRate) state.aggregate = new TokenBucket(aggRate);
    wait = Math.max(wait, state.aggregate.reserve(bytes, now));
  } else {
    state.aggregate = undefined;
  }
  return wait;
}

function drainedOrClosed(ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ctx.res.off('drain', done);
      ctx.signal.removeEventListener('abort', done);
      resolve();
    };
    ctx.res.once('drain', done);
    ctx.signal.addEventListener('abort', done, { once: true });
  });
}

/** Write one piece with throttling, accounting and backpressure; resolves once it is flushed or the client left. */
async function writePiece(state: EmulatorState, ctx: RequestContext, piece: Buffer): Promise<{ flushed: Promise<void> }> {
  const slice = sliceSize(state);
  let flushed: Promise<void> = Promise.resolve();
  for (let o = 0; o < piece.length; o += slice) {
    const part = piece.subarray(o, Math.min(piece.length, o + slice));
    await sleep(throttleWait(state, ctx.res.socket, part.length), ctx.signal);
    if (ctx.signal.aborted || ctx.res.destroyed) return { flushed };
    let resolveFlush: () => void = () => {};
    flushed = new Promise<void>((resolve) => (resolveFlush = resolve));
    const ok = ctx.res.write(part, () => resolveFlush());
    ctx.record.bytesSent += part.length;
    state.stats.bytesServed += part.length;
    if (!ok) await drainedOrClosed(ctx);
  }
  return { flushed };
}

/**
 * Serve [0, size) of a file with Range support and body faults. The hub's direct files and the
 * CDN's blobs both come through here.
 */
export async function serveContent(state: EmulatorState, ctx: RequestContext, source: ContentSource, size: number, opts: ContentOptions): Promise<void> {
  const faults: FaultAction[] = ctx.method === 'GET' ? state.engine.take(ctx.origin, ctx.method, ctx.pathname, 'body') : [];
  const find = <K extends FaultAction['kind']>(kind: K) => faults.find((f): f is Extract<FaultAction, { kind: K }> => f.kind === kind);
  // wrong-length / wrong-total: the server holds a different-size object than the Hub announced.
  const wrongLength = find('wrong-length');
  const resize = wrongLength ?? find('wrong-total');
  const served = Math.max(0, size + (resize?.delta ?? 0));
  let range = parseRange(ctx.req.headers.range, served);
  if (find('ignore-range') || wrongLength) range = { kind: 'none' };
  if (range.kind === 'unsatisfiable') {
    const body = ctx.origin === 'cdn' ? s3Error('InvalidRange', 'The requested range is not satisfiable') : JSON.stringify({ error: 'Requested Range Not Satisfiable' });
    sendBody(ctx, 416, { 'Content-Range': `bytes */${served}`, 'Content-Type': ctx.origin === 'cdn' ? 'application/xml' : 'application/json; charset=utf-8' }, body);
    return;
  }
  const start = range.kind === 'range' ? range.start : 0;
  const end = range.kind === 'range' ? range.end + 1 : served;
  const headers: Record<string, string | number> = { ...opts.headers, 'Accept-Ranges': 'bytes', 'Content-Length': end - start };
  if (range.kind === 'range') {
    const shift = find('wrong-content-range')?.shift ?? 0;
    headers['Content-Range'] = `bytes ${start + shift}-${end - 1 + shift}/${served}`;
  }
  const short = find('short-body');
  // Close after a short body so the client sees the connection end before Content-Length bytes.
  if (short) headers.Connection = 'close';
  head(ctx, range.kind === 'range' ? 206 : 200, headers);
  if (ctx.method === 'HEAD') {
    ctx.res.end();
    return;
  }
  const bodyEnd = short ? Math.max(start, end - short.missing) : end;
  const drop = find('drop');
  const stall = find('stall');
  const corrupt = find('corrupt');
  let stalled = false;
  let sent = 0;
  let position = start;
  let flushed: Promise<void> = Promise.resolve();
  const dropNow = async () => {
    await flushed;
    ctx.res.socket?.destroy();
  };
  if (drop && drop.afterBytes <= 0) return dropNow();
  for (const chunk of resize ? readResized(source, served, start, bodyEnd) : readRange(source, start, bodyEnd)) {
    let rest = chunk;
    if (corrupt && corrupt.offset >= position && corrupt.offset < position + rest.length) {
      rest = Buffer.from(rest);
      const i = corrupt.offset - position;
      rest[i] = (rest[i] ?? 0) ^ 0xff;
    }
    position += chunk.length;
    while (rest.length > 0) {
      let limit = rest.length;
      if (drop) limit = Math.min(limit, drop.afterBytes - sent);
      if (stall && !stalled) limit = Math.min(limit, Math.max(0, stall.afterBytes - sent));
      if (limit > 0) {
        ({ flushed } = await writePiece(state, ctx, rest.subarray(0, limit)));
        rest = rest.subarray(limit);
        sent += limit;
      }
      if (ctx.signal.aborted || ctx.res.destroyed) return;
      if (drop && sent >= drop.afterBytes) return dropNow();
      if (stall && !stalled && sent >= stall.afterBytes) {
        stalled = true;
        await sleep(stall.ms, ctx.signal);
      }
    }
  }
  ctx.res.end();
}
