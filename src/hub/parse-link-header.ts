/**
 * RFC 8288 `Link` header parsing, enough for the Hub's tree pagination
 * (`<https://huggingface.co/api/...&cursor=...>; rel="next"`, huggingface_hub utils/_pagination.py).
 * Pure.
 */

/** rel → target (first occurrence wins). `rel="next prev"` registers both names. */
export function parseLinkHeader(value: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!value) return links;
  // Each link is `<uri>` followed by `;`-separated params; a URI may itself contain ',' or ';'.
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,]+?(?:=(?:"[^"]*"|[^;,]*))?)*)/g;
  for (const match of value.matchAll(pattern)) {
    const target = match[1] ?? '';
    const params = match[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const names = (rel?.[1] ?? rel?.[2] ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean);
    for (const name of names) if (!links.has(name)) links.set(name, target);
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
