/**
 * Reading one response header, from undici's plain objects (`Record<name, string | string[]>`)
 * and from WHATWG `Headers` alike, case-insensitively. Pure. A header that came more than once is
 * an array in undici's objects; there are two ways to read it, with two names:
 *
 * - `joinedHeaderValue`: every value joined with `", "`, the combination RFC 9110 §5.3 defines
 *   (and what `Headers.get()` returns) — right for list headers (`Link`, `Cache-Control`) and
 *   for anything shown to a person;
 * - `firstHeaderValue`: the first value only — right for singleton headers a server should
 *   send once (`Location`, `Content-Range`, `Docker-Content-Digest`), where a repeated one must
 *   not turn into a joined string no parser accepts. On a WHATWG `Headers` (which only has the
 *   combined value) it returns that combined value.
 *
 * `headerValues` lists them all (one element per occurrence; `[]` when absent).
 */

export type HeaderSource =
  | Readonly<Record<string, string | string[] | number | undefined>>
  | { get(name: string): string | null | undefined };

type HeaderRecord = Readonly<Record<string, string | string[] | number | undefined>>;

function hasGet(headers: HeaderSource): headers is { get(name: string): string | null | undefined } {
  return typeof (headers as { get?: unknown }).get === 'function';
}

function rawValue(headers: HeaderRecord, lower: string): string | string[] | number | undefined {
  let value = headers[lower];
  if (value === undefined) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) value = headers[key];
  }
  return value;
}

/** Every value of header `name`, one per occurrence; `[]` when absent. */
export function headerValues(headers: HeaderSource | undefined, name: string): string[] {
  if (!headers) return [];
  const lower = name.toLowerCase();
  if (hasGet(headers)) {
    const value = headers.get(lower);
    return value === null || value === undefined ? [] : [value];
  }
  const value = rawValue(headers, lower);
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** All values of header `name` joined with `", "` (RFC 9110 §5.3); undefined when absent. */
export function joinedHeaderValue(headers: HeaderSource | undefined, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 0 ? undefined : values.join(', ');
}

/** The first value of header `name`; undefined when absent. */
export function firstHeaderValue(headers: HeaderSource | undefined, name: string): string | undefined {
  return headerValues(headers, name)[0];
}

/** An adapter with `get()` (joined values), for util/net's retryAfterSeconds. */
export function headerGetter(headers: HeaderSource | undefined): { get(name: string): string | undefined } {
  return { get: (name: string) => joinedHeaderValue(headers, name) };
}
