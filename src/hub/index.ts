/** The Hub client: repo ids, URLs, typed Hub errors, the dispatcher and the client itself. */
export type * from './types.js';
export { parseRepoId, parseRepoSpec, isCommitHash, isRepoType, repoUrlPrefix, repoWebUrl, describeRepo, type RepoSpec } from './repo-id.js';
export { quote, apiRevisionUrl, apiTreeUrl, resolveFileUrl, whoamiUrl, isSameOrigin } from './urls.js';
export { errorFromResponse, requestIdOf, serverMessageOf, repoFromUrl, formatSeconds, type ErrorResponseInput } from './error-from-response.js';
export { createDispatcher, proxyForUrl, isNoProxy, hasProxy, type DispatcherOptions } from './create-dispatcher.js';
export { createHubClient, defaultUserAgent } from './create-hub-client.js';
export { normalizeEtag } from './normalize-etag.js';
export { parseLinkHeader, nextPageUrl } from './parse-link-header.js';
export { signedUrlExpiry, parseAmzDate } from './signed-url-expiry.js';
export { joinedHeaderValue as headerValue, type HeaderSource } from '../util/http-headers.js';
export { MAX_URL_REDIRECTS, resolveUrlArtifact, splitUrlCredentials, type UrlArtifactSource, type UrlArtifactSourceOptions } from './url-artifact-source.js';
