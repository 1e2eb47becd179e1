/**
 * RFC 8288 `Link` header parsing, enough for the Hub's tree pagination
 * (`<https://huggingface.co/api/...&cursor=...>; rel="next"`, huggingface_hub utils/_pagination.py).
 * Pure.
 */

/** rel → target (first occurrence wins). `rel="next prev"` registers both names. */
export function parseLinkHeader(value: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!value) return links;
  let i = 0;
  while (i < value.length) {
    const open = value.indexOf('<', i);
    if (open === -1) break;
    // The target runs to the next '>' (a URI cannot contain '>'; it may contain ',' and ';').
    const close = value.indexOf('>', open + 1);
    if (close === -1) break;
    const target = value.slice(open + 1, close).trim();
    // Parameters run to the next ',' outside quotes.
    let j = close + 1;
    let inQuotes = false;
    for (; j < value.length; j++) {
      const ch = value[j];
      if (ch === '"') inQuotes = !inQuotes;
      else if (ch === ',' && !inQuotes) break;
    }
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(value.slice(close + 1, j));
    const names = (rel?.[1] ?? rel?.[2] ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean);
    for (const name of names) if (!links.has(name)) links.set(name, target);
    i = j + 1;
  }
  return links;
}

/**
 * The absolute URL of the next page, or undefined on the last page. A relative target is resolved
 * against `baseUrl` (the page that carried it).
 */
export function nextPageUrl(linkHeader: string | null | undefined, baseUrl: string): string | undefined {
  const next = parseLinkHeader(linkHeader).get('next');
  if (next === undefined || next === '') return undefined;
  try {
    return new URL(next, baseUrl).toString();
  } catch {
    return undefined;
  }
}
