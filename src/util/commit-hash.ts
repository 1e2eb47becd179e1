/** A full git commit id as the Hub writes it (huggingface_hub REGEX_COMMIT_HASH: 40 lowercase hex). */
export function isCommitHash(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}
