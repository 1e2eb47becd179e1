/**
 * The Hub client: the few requests mlcache makes to the Hub (docs/hub-client.md), composed from
 * the exchange that owns retries, redirects and "the token only goes to the Hub's origin"
 * (hub-exchange.ts), the paginated file listing (list-files.ts), file metadata from response hops
 * (file-metadata.ts) and the user agent (user-agent.ts).
 */
import { HubHttpError, MlcacheError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import { apiSchemas, parseApiJson } from './api-json.js';
import { fileMetadata } from './file-metadata.js';
import { createHubExchange, type FollowResult } from './hub-exchange.js';
import { listFiles as listRepoFiles } from './list-files.js';
import { describeRepo, isCommitHash } from './repo-id.js';
import type { DirectSource, HubClient, HubClientOptions, RepoFile, RepoRef, ResolvedFile, RevisionInfo, WhoAmI } from './types.js';
import { apiRevisionUrl, resolveFileUrl, whoamiUrl } from './urls.js';
import { defaultUserAgent } from './user-agent.js';

export { defaultUserAgent } from './user-agent.js';

const JSON_ACCEPT = { accept: 'application/json' } as const;
/** Sizes must be real byte counts (file_download.py::get_hf_file_metadata sends the same). */
const IDENTITY = { 'accept-encoding': 'identity' } as const;

export function createHubClient(options: HubClientOptions): HubClient {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const token = options.token && options.token.length > 0 ? options.token : undefined;
  registerSecret(token);
  const hub = createHubExchange({
    endpoint,
    token,
    dispatcher: options.dispatcher,
    userAgent: options.userAgent ?? defaultUserAgent(),
    maxRetries: options.maxRetries ?? 5,
    baseDelayMs: options.baseDelayMs ?? 1000,
    maxBackoffMs: options.maxBackoffMs ?? 8000,
    maxRetryAfterSec: options.maxRetryAfterSec ?? 300,
    timeoutMs: options.timeoutMs ?? 30_000,
    signal: options.signal,
    onRetry: options.onRetry,
  });

  async function resolveRevision(repo: RepoRef, revision: string): Promise<RevisionInfo> {
    // snapshot_download skips repo_info when the revision is already a commit (REGEX_COMMIT_HASH).
    if (isCommitHash(revision)) return { commit: revision, gated: false, private: false };
    void apiSchemas(); // load zod while the request is on its way
    const { final } = await hub.follow('GET', apiRevisionUrl(endpoint, repo, revision), JSON_ACCEPT, { repo, revision });
    const info = await parseApiJson(endpoint, final, (s) => s.ApiRevisionInfoSchema, `the revision info of ${describeRepo(repo)}@${revision}`);
    return { commit: info.sha, gated: info.gated, private: info.private };
  }

  async function revisionFiles(repo: RepoRef, revision: string): Promise<{ commit: string; files: RepoFile[] | undefined }> {
    void apiSchemas();
    const url = `${apiRevisionUrl(endpoint, repo, revision)}?blobs=true`;
    const { final } = await hub.follow('GET', url, JSON_ACCEPT, { repo, revision });
    const info = await parseApiJson(endpoint, final, (s) => s.ApiRevisionFilesSchema, `the revision info of ${describeRepo(repo)}@${revision}`);
    const siblings = info.siblings;
    if (siblings === undefined || siblings.some((f) => f.size === undefined || f.blobId === undefined)) return { commit: info.sha, files: undefined };
    const files = siblings.map((f): RepoFile => ({ path: f.rfilename, size: f.lfs?.size ?? f.size ?? 0, oid: f.blobId ?? '', ...(f.lfs ? { lfs: { oid: f.lfs.sha256, size: f.lfs.size } } : {}) }));
    return { commit: info.sha, files };
  }

  function listFiles(repo: RepoRef, commit: string): Promise<RepoFile[]> {
    const fetchPage = async (url: string) => (await hub.follow('GET', url, JSON_ACCEPT, { repo, revision: commit })).final;
    return listRepoFiles({ endpoint, repo, commit, fetchPage });
  }

  function resolveUrl(repo: RepoRef, commit: string, path: string): string {
    return resolveFileUrl(endpoint, repo, commit, path);
  }

  async function resolveFile(repo: RepoRef, commit: string, path: string): Promise<ResolvedFile> {
    // Same-origin redirects (repo renames) are followed; the first redirect to another origin (the
    // CDN, for LFS files) is where we stop, without requesting it: its Location is the download
    // URL and the Hub's X-Linked-* headers on that redirect are the metadata (huggingface_hub
    // file_download.py::get_hf_file_metadata). One round trip per LFS file instead of two, and the CDN sees only the GET.
    const { hops, final, location } = await hub.follow('HEAD', resolveUrl(repo, commit, path), IDENTITY, { repo, revision: commit, path }, true);
    const meta = fileMetadata(hops, final, location);
    return { url: meta.url, headers: hub.headersFor(meta.url, IDENTITY), commit: meta.commit, etag: meta.etag, size: meta.size, expiresAt: meta.expiresAt };
  }

  function directFileSource(repo: RepoRef, commit: string, path: string): DirectSource {
    const url = resolveUrl(repo, commit, path);
    return { url, headers: hub.headersFor(url, IDENTITY) };
  }

  async function whoami(): Promise<WhoAmI> {
    if (token === undefined) {
      throw new MlcacheError('TOKEN_MISSING', `No token to check against ${endpoint}.`, {
        hint: `Create a token at ${endpoint}/settings/tokens, then pass it with --token or HF_TOKEN.`,
      });
    }
    let final: FollowResult['final'];
    try {
      ({ final } = await hub.follow('GET', whoamiUrl(endpoint), JSON_ACCEPT, {}));
    } catch (error) {
      if (error instanceof HubHttpError && error.status === 401) {
        throw new HubHttpError(
          'TOKEN_INVALID',
          `The token was rejected by ${endpoint}.`,
          { status: 401, url: error.url, requestId: error.requestId },
          { hint: `Create or refresh a token at ${endpoint}/settings/tokens, then pass it with --token or HF_TOKEN.`, cause: error },
        );
      }
      throw error;
    }
    const me = await parseApiJson(endpoint, final, (s) => s.ApiWhoAmISchema, 'whoami');
    return { name: me.name, type: me.type };
  }

  return {
    endpoint,
    hasToken: token !== undefined,
    resolveRevision,
    revisionFiles,
    listFiles,
    resolveUrl,
    resolveFile,
    directFileSource,
    whoami,
  };
}
