/**
 * huggingface_hub file_download.py::_normalize_etag: `etag.lstrip("W/").strip('"')`. `lstrip`
 * removes any run of leading 'W' and '/' characters (harmless for the hex etags the Hub sends);
 * this mirrors it exactly so blob names match Python's.
 */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (etag === null || etag === undefined) return undefined;
  const normalized = etag.replace(/^[W/]+/, '').replace(/^"+|"+$/g, '');
  return normalized === '' ? undefined : normalized;
}
