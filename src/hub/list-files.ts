/**
 * A repo's file listing at a commit: the recursive tree listing, page after page along
 * `Link: rel="next"` (huggingface_hub hf_api.py::list_repo_tree, utils/_pagination.py), with the
 * guards that keep a misbehaving endpoint from paging forever or from getting the token elsewhere.
 * Pages come from `fetchPage` (the Hub exchange in the client, a plain function in tests).
 */
import { redactUrl } from '../util/redact.js';
import { apiSchemas, parseApiJson, protocolError } from './api-json.js';
import { headerValue } from './header-value.js';
import type { HubResponse } from './hub-response.js';
import { nextPageUrl } from './parse-link-header.js';
import { describeRepo } from './repo-id.js';
import type { RepoFile, RepoRef } from './types.js';
import { apiTreeUrl, isSameOrigin } from './urls.js';

/** More pages than any real repo has: past this, the listing is taken to loop. */
export const MAX_PAGES = 100_000;

/** GET one listing page (following same-origin redirects); a non-2xx answer is thrown, not returned. */
export type FetchPage = (url: string) => Promise<HubResponse>;

export interface ListFilesOptions {
  /** Hub origin without trailing slash: the origin every next page must stay on. */
  endpoint: string;
  repo: RepoRef;
  commit: string;
  fetchPage: FetchPage;
  /** @default MAX_PAGES */
  maxPages?: number | undefined;
}

const AGAIN = 'Run the command again; if it keeps happening, the endpoint is misbehaving (check --endpoint / HF_ENDPOINT).';

/**
 * Every file at `commit`. Refuses (PROTOCOL, nothing listed) a page URL read twice or more than
 * `maxPages` pages, a path named twice, an empty page that still points to a next one, and a next
 * link to another origin.
 */
export async function listFiles(options: ListFilesOptions): Promise<RepoFile[]> {
  const { endpoint, repo, commit, fetchPage } = options;
  const maxPages = options.maxPages ?? MAX_PAGES;
  const files: RepoFile[] = [];
  const seen = new Set<string>();
  const listed = new Set<string>();
  let pages = 0;
  let next: string | undefined = apiTreeUrl(endpoint, repo, commit);
  while (next !== undefined) {
    if (seen.has(next) || seen.size >= maxPages) {
      throw protocolError(`The file listing of ${describeRepo(repo)} loops: page ${redactUrl(next)} was already read.`, next, AGAIN);
    }
    seen.add(next);
    pages++;
    const page = await fetchPage(next);
    const entries = await parseApiJson(endpoint, page, (s) => s.ApiTreeEntrySchema.array(), `the file listing of ${describeRepo(repo)}`);
    const { ApiTreeFileSchema, formatIssues } = await apiSchemas();
    for (const [index, entry] of entries.entries()) {
      // The recursive listing names each path once. A repeat means pagination that starts over
      // under new cursors (a page URL check alone would read 100 000 pages first).
      // (Keyed by type too: a file listed where a folder is gets the planner's clearer message.)
      if (entry.path !== undefined) {
        const key = `${entry.type}\0${entry.path}`;
        if (listed.has(key)) {
          throw protocolError(
            `The file listing of ${describeRepo(repo)} names ${JSON.stringify(entry.path)} twice (page ${pages}); its pagination loops or is corrupt.`,
            page.url,
            `Nothing was written. ${AGAIN}`,
          );
        }
        listed.add(key);
      }
      if (entry.type !== 'file') continue;
      const parsed = ApiTreeFileSchema.safeParse(entry);
      if (!parsed.success) {
        throw protocolError(
          `${endpoint} listed an invalid file entry in ${describeRepo(repo)} (${entry.path ?? `entry ${index}`}: ${formatIssues(parsed.error)}).`,
          page.url,
          'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.',
          parsed.error,
        );
      }
      const f = parsed.data;
      files.push({
        path: f.path,
        size: f.size,
        oid: f.oid,
        lfs: f.lfs ? { oid: f.lfs.oid, size: f.lfs.size } : undefined,
        xetHash: f.xetHash ?? undefined,
      });
    }
    const link = nextPageUrl(headerValue(page.headers, 'link'), page.url);
    if (link !== undefined && entries.length === 0) {
      // An empty page that promises more would let a server keep us paging forever.
      throw protocolError(`The file listing of ${describeRepo(repo)} sent an empty page ${pages} that still points to a next page.`, page.url, `Nothing was written. ${AGAIN}`);
    }
    if (link !== undefined && !isSameOrigin(link, endpoint)) {
      // The token goes with every page; a next link elsewhere would leak it.
      throw protocolError(
        `The file listing of ${describeRepo(repo)} points its next page at another origin (${redactUrl(link)}); mlcache refuses to follow it.`,
        link,
        'Check the endpoint (--endpoint / HF_ENDPOINT) and any proxy or mirror in between.',
      );
    }
    next = link;
  }
  return files;
}
