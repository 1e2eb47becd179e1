/** Reading headers from undici's plain objects and from WHATWG `Headers` alike. Pure. */

export type HeaderSource =
  | Readonly<Record<string, string | string[] | number | undefined>>
  | { get(name: string): string | null | undefined };

/** First value of a header, case-insensitive; undefined when absent. */
export function headerValue(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null | undefined }).get(lower) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | string[] | number | undefined>>;
  let value = record[lower];
  if (value === undefined) {
    for (const key of Object.keys(record)) if (key.toLowerCase() === lower) value = record[key];
  }
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(', ');
  return value === undefined ? undefined : String(value);
}

/** An adapter with `get()`, for util/net's retryAfterSeconds. */
export function headerGetter(headers: HeaderSource | undefined): { get(name: string): string | undefined } {
  return { get: (name: string) => headerValue(headers, name) };
}
