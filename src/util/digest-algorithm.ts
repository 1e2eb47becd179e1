/**
 * The two ways a file in the HF cache is named by its content, one type for all of mlcache:
 * - `sha256`: LFS files; the blob name is the sha256 of the bytes (64 hex), the Hub's
 *   `X-Linked-Etag` / `lfs.oid`;
 * - `git-sha1`: regular (git-stored) files; the blob name is git's blob id, sha1 over
 *   `"blob <size>\0"` + the bytes (40 hex), huggingface_hub utils/sha.py `git_hash`.
 */
export const DIGEST_ALGORITHMS = ['sha256', 'git-sha1'] as const;

export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
