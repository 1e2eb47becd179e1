/**
 * How the transfer engine gets a file's download URL. Regular git files are served by the Hub
 * itself, so the first attempt GETs the resolve URL directly (one round trip, no HEAD); LFS files
 * need the CDN URL from the Hub's redirect, so they start with `resolveFile` (one HEAD, not
 * followed to the CDN). A 3xx to a direct GET makes the engine call us again with 'expired', and
 * then `resolveFile` decides; the engine never follows a redirect itself, so the Authorization
 * of the direct source never reaches a redirect target.
 */
import type { TransferItem, TransferSource } from '../download/types.js';
import type { HubClient, RepoRef } from '../hub/types.js';

export function fileSource(hub: HubClient, repo: RepoRef, commit: string, file: { path: string; lfs: boolean }): TransferItem['resolve'] {
  return async (reason): Promise<TransferSource> => {
    if (!file.lfs && reason === 'initial') return hub.directFileSource(repo, commit, file.path);
    const resolved = await hub.resolveFile(repo, commit, file.path);
    return { url: resolved.url, headers: resolved.headers, expiresAt: resolved.expiresAt };
  };
}
