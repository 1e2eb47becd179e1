/**
 * Strict validation of a ranged GET's answer (RFC 9110 §14.4, §15.3.7). Pure. A CDN that ignores
 * Range (200), shifts the range, or reports a different total must never get its bytes written
 * at the wrong offset; undici's retry-handler checks the start the same way.
 */
export interface ContentRange {
  start: number;
  /** Inclusive, as on the wire. */
  end: number;
  /** undefined for `*`. */
  total: number | undefined;
}

const CONTENT_RANGE = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i;

export function parseContentRange(value: string | undefined | null): ContentRange | undefined {
  if (!value) return undefined;
  const match = CONTENT_RANGE.exec(value);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (total !== undefined && (!Number.isSafeInteger(total) || end >= total)) return undefined;
  return { start, end, total };
}

export type RangeCheck =
  /** Write the body at `start`; it must be exactly `length` bytes. */
  | { ok: true; writeAt: number; length: number; whole: boolean }
  | { ok: false; reason: string };

export interface RangeRequestFacts {
  /** Asked for [start, end). */
  start: number;
  end: number;
  /** The file's expected size. */
  size: number;
  /**
   * Whether a 200 (the whole file) may be accepted in place of this range. The engine allows it
   * only for files fetched in one request, where re-reading the whole body is the same work.
   */
  acceptWhole: boolean;
}

/** Decide whether a 200/206 answer to a ranged GET can be written, and where. */
export function checkRangeResponse(
  facts: RangeRequestFacts,
  status: number,
  headers: { contentRange?: string | undefined; contentLength?: string | undefined },
): RangeCheck {
  const contentLength = headers.contentLength === undefined ? undefined : Number(headers.contentLength);
  if (status === 200) {
    if (!facts.acceptWhole) return { ok: false, reason: 'server ignored the Range header (200 instead of 206)' };
    if (contentLength !== undefined && contentLength !== facts.size) {
      return { ok: false, reason: `200 with Content-Length ${contentLength}, expected the whole file (${facts.size} bytes)` };
    }
    return { ok: true, writeAt: 0, length: facts.size, whole: true };
  }
  if (status !== 206) return { ok: false, reason: `unexpected status ${status}` };
  const range = parseContentRange(headers.contentRange);
  if (!range) return { ok: false, reason: `206 without a valid Content-Range (${headers.contentRange ?? 'missing'})` };
  if (range.start !== facts.start || range.end !== facts.end - 1) {
    return { ok: false, reason: `Content-Range bytes ${range.start}-${range.end} does not match the requested ${facts.start}-${facts.end - 1}` };
  }
  if (range.total !== facts.size) {
    return { ok: false, reason: `Content-Range total ${range.total ?? '*'} differs from the expected size ${facts.size}` };
  }
  const length = facts.end - facts.start;
  if (contentLength !== undefined && contentLength !== length) {
    return { ok: false, reason: `Content-Length ${contentLength} differs from the range length ${length}` };
  }
  return { ok: true, writeAt: facts.start, length, whole: false };
}
