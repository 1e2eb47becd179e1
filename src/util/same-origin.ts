/** The credential rule of both clients: a token goes only to URLs of the same origin. Pure. */

/** Same scheme, host and port (WHATWG URL origin); false when either is not a URL. */
export function isSameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
