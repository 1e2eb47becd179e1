/**
 * OCI references and repository names. Pure.
 *
 * Grammar from opencontainers/distribution-spec spec.md ("Pulling manifests"):
 *   name      `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
 *   tag       `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
 * and "many clients impose a limit of 255 characters on the length of the concatenation of the
 * registry hostname (and optional port), `/`, and `<name>`". Digests are only `sha256:<64 hex>`:
 * mlcache never produces or accepts another algorithm (the HF blob names are sha256).
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import type { ImageReference } from './types.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_PATTERN = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** `host[:port]`: a DNS name, IPv4 or bracketed IPv6, optional port. */
const REGISTRY_PATTERN = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
const MAX_REFERENCE_LENGTH = 255;

const HINT = 'Write it as oci://host[:port]/name[:tag][@sha256:<64 hex>], with a lower-case name (e.g. oci://registry.example.com/models/llama:main).';

export function isValidRepositoryName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST_PATTERN.test(digest);
}

export function isValidRegistryHost(registry: string): boolean {
  return REGISTRY_PATTERN.test(registry);
}

/** `digest` if it is `sha256:<64 hex>`, else INVALID_REFERENCE (checked before a digest goes into a URL). */
export function verifyDigest(digest: string): string {
  if (!isValidDigest(digest)) {
    throw new MlcacheError('INVALID_REFERENCE', `"${cutValue(digest)}" is not a sha256 digest (sha256: followed by 64 lower-case hex digits).`, {
      hint: 'Pass the digest as sha256:<64 hex>.',
    });
  }
  return digest;
}

export function verifyRepositoryName(name: string): string {
  if (!isValidRepositoryName(name)) {
    throw new MlcacheError('INVALID_REFERENCE', `"${cutValue(name)}" is not a valid OCI repository name.`, {
      hint: 'Repository names are lower-case components of letters and digits separated by "/", joined inside by ".", "_", "__" or "-".',
    });
  }
  return name;
}

/**
 * Parse `oci://host[:port]/name[:tag][@sha256:…]` (the `oci://` prefix is optional). The host is
 * lower-cased (host names are case-insensitive); the name must already be lower case, as the spec
 * requires, so a reference a person typed is never silently rewritten.
 */
export function parseImageReference(text: string): ImageReference {
  const fail = (why: string): never => {
    throw new MlcacheError('INVALID_REFERENCE', `"${cutValue(text)}" is not a valid OCI reference: ${why}.`, { hint: HINT });
  };
  let rest = text.trim();
  if (/^oci:\/\//i.test(rest)) rest = rest.slice('oci://'.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) fail('only oci:// references are understood');
  const slash = rest.indexOf('/');
  if (slash <= 0) fail('it names no repository after the registry host');
  const registry = rest.slice(0, slash).toLowerCase();
  if (!isValidRegistryHost(registry)) fail(`"${cutValue(registry)}" is not a host[:port]`);
  let remainder = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = remainder.indexOf('@');
  if (at >= 0) {
    digest = remainder.slice(at + 1);
    remainder = remainder.slice(0, at);
    if (!isValidDigest(digest)) fail('the digest is not sha256: followed by 64 lower-case hex digits');
  }
  let tag: string | undefined;
  // A tag follows the last ':' after the last '/' (a ':' before it belongs to the host:port).
  const colon = remainder.lastIndexOf(':');
  if (colon > remainder.lastIndexOf('/')) {
    tag = remainder.slice(colon + 1);
    remainder = remainder.slice(0, colon);
    if (!isValidTag(tag)) fail('the tag must be 1–128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"');
  }
  const repository = remainder;
  if (!isValidRepositoryName(repository)) {
    fail(
      repository !== repository.toLowerCase()
        ? 'repository names are lower case'
        : 'the repository name must be lower-case components of letters and digits separated by "/"',
    );
  }
  if (registry.length + 1 + repository.length > MAX_REFERENCE_LENGTH) fail(`host and name together exceed ${MAX_REFERENCE_LENGTH} characters`);
  return { registry, repository, tag, digest };
}

/** `oci://host/name[:tag][@digest]` again, for messages. */
export function formatImageReference(ref: ImageReference): string {
  return `oci://${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** One path component of an HF repo id as an OCI name component: lower case, separators the grammar allows. */
function mapComponent(component: string): string {
  return (
    component
      .toLowerCase()
      // Anything outside the grammar's alphabet becomes a dash.
      .replace(/[^a-z0-9._-]/g, '-')
      // A run of separators the grammar does not allow between two alphanumerics (".-", "._", "___",
      // "..") becomes one dash; ".", "_", "__" and "-+" alone are kept.
      .replace(/[._-]{2,}/g, (run) => (run === '__' || /^-+$/.test(run) ? run : '-'))
      // Components start and end with a letter or digit.
      .replace(/^[._-]+|[._-]+$/g, '')
  );
}

/**
 * The registry repository for an HF repo id: `<prefix>/<org>/<name>` lower-cased and mapped onto
 * the distribution-spec grammar (repository names in registries are lower case; the original id is
 * kept by the caller in an annotation). `prefix` may be empty. Throws INVALID_REFERENCE if the result
 * is still not a valid name (e.g. a component made only of separators).
 */
export function registryRepositoryFor(hfRepoId: string, prefix = ''): string {
  const parts = [...prefix.split('/'), ...hfRepoId.split('/')].filter((p) => p.length > 0).map(mapComponent);
  const name = parts.join('/');
  if (parts.some((p) => p.length === 0) || !isValidRepositoryName(name)) {
    throw new MlcacheError('INVALID_REFERENCE', `The repo id "${cutValue(hfRepoId)}" has no valid OCI repository name under "${cutValue(prefix)}".`, {
      hint: 'Pass the registry reference explicitly (oci://host/name:tag).',
    });
  }
  return name;
}
