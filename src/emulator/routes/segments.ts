/** Small readers of the Hub emulator's request paths and query values. */

/** A percent-decoded path segment, or the segment as it came when it is not valid percent-encoding. */
export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A boolean query value as the clients send it (`true`, `1`, Python's `True`). */
export function isTrue(v: string | null): boolean {
  return v !== null && ['true', '1', 'True'].includes(v);
}
