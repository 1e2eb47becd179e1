/**
 * `Range` request header parsing (RFC 9110 §14.1.2 / §14.2), for one resource of known size.
 * Only the first range of a multi-range request is honoured (the emulator never sends
 * multipart/byteranges; clients of the Hub only ever send one range).
 */

export type ParsedRange =
  /** No Range header, or one we must ignore (not `bytes=`, malformed): answer 200 with everything. */
  | { kind: 'none' }
  /** Satisfiable: answer 206 with bytes [start, end] (inclusive). */
  | { kind: 'range'; start: number; end: number }
  /** Syntactically valid but unsatisfiable: answer 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (header === undefined) return { kind: 'none' };
  const match = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!match) return { kind: 'none' };
  const first = (match[1] ?? '').split(',')[0] ?? '';
  const spec = SPEC.exec(first);
  if (!spec) return { kind: 'none' };
  const [, a = '', b = ''] = spec;
  if (a === '' && b === '') return { kind: 'none' };
  if (a === '') {
    // Suffix range: the last n bytes (RFC 9110 §14.1.2).
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  // A last-pos before first-pos makes the header invalid, which RFC 9110 says to ignore.
  if (b !== '' && end < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}
