/**
 * How the Hub emulator answers: status and headers recorded for the stats, bodies counted, HEAD
 * without a body, the Hub's JSON error shape and the CDN's S3 XML error shape.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from './state.js';

export function head(ctx: RequestContext, status: number, headers: Record<string, string | number>): void {
  ctx.record.status = status;
  ctx.res.writeHead(status, headers);
}

export function sendBody(ctx: RequestContext, status: number, headers: Record<string, string | number>, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  head(ctx, status, { ...headers, 'Content-Length': bytes.length });
  if (ctx.method === 'HEAD') {
    ctx.res.end();
    return;
  }
  ctx.record.bytesSent += bytes.length;
  ctx.res.end(bytes);
}

export function sendJson(ctx: RequestContext, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBody(ctx, status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(value));
}

/** The Hub's error shape: X-Error-Code / X-Error-Message headers and `{"error": …}` (hf_raise_for_status). */
export function sendHubError(ctx: RequestContext, status: number, code: string | undefined, message: string, headers: Record<string, string> = {}): void {
  sendJson(ctx, status, { error: message }, { ...(code ? { 'X-Error-Code': code } : {}), 'X-Error-Message': message, ...headers });
}

/** An S3 error document, as the CDN (CloudFront in front of S3) answers. */
export function s3Error(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${fields}<RequestId>${randomUUID()}</RequestId></Error>`;
}
