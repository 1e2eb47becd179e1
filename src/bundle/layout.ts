/**
 * The OCI image layout (opencontainers/image-spec image-layout.md): an `oci-layout` file
 * (`{"imageLayoutVersion":"1.0.0"}`), an `index.json` image index whose manifest descriptors carry
 * `org.opencontainers.image.ref.name`, and content-addressed blobs under `blobs/<alg>/<hex>`.
 * mlcache writes one ModelPack manifest per snapshot, named `<repo id>:<revision>` (datasets and
 * spaces prefixed `datasets/`, `spaces/`), which is what `skopeo … oci-archive:bundle.tar:<ref>`
 * looks up: containers/image oci/layout matches the part after the path's first `:` against the
 * ref.name annotation exactly. Pure: names, the index's bytes, and the checks of untrusted input.
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';

export const OCI_LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const OCI_LAYOUT_BYTES = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/**
 * CNCF distribution's manifest size limit (registry/handlers/manifests.go, 4 MiB): index.json,
 * manifests and configs are read into memory only up to it.
 */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

export function blobEntryName(hex: string): string {
  return `blobs/sha256/${hex}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

export type LayoutEntry =
  | { kind: 'oci-layout' }
  | { kind: 'index' }
  | { kind: 'blob'; hex: string }
  /** A folder entry (`blobs/`, `blobs/sha256/`), or a file of the layout mlcache does not read (`blobs/sha512/…`). */
  | { kind: 'ignored' };

export function bundleInvalid(message: string, hint = 'The bundle is damaged or was not written as an OCI image layout: export it again (`mlcache export`, or `skopeo copy … oci-archive:…`).'): MlcacheError {
  return new MlcacheError('BUNDLE_INVALID', message, { hint });
}

/**
 * What a tar entry (or a file of a layout folder) is. Names are untrusted: one that could leave
 * the layout (`..`, absolute, a backslash, a control character) is refused as UNSAFE_PATH before
 * anything is read from it, and so is a blob name that is not 64 hex digits under `blobs/sha256/`.
 */
export function classifyEntry(rawName: string): LayoutEntry {
  const name = rawName.replace(/^(\.\/)+/, '');
  // eslint-disable-next-line no-control-regex
  const unsafe = name.startsWith('/') || name.includes('\\') || /[\u0000-\u001f\u007f]/.test(name) || name.split('/').some((s) => s === '..');
  if (unsafe) {
    throw new MlcacheError('UNSAFE_PATH', `The bundle holds an entry named ${JSON.stringify(cutValue(rawName))}, which would leave the layout folder; nothing was read from it.`, {
      hint: 'The bundle is hostile or broken: get it again from a trusted source. Only oci-layout, index.json and blobs/sha256/<digest> are read.',
    });
  }
  const clean = name.replace(/\/+$/, '');
  if (clean === OCI_LAYOUT_FILE) return { kind: 'oci-layout' };
  if (clean === INDEX_FILE) return { kind: 'index' };
  if (clean === '' || clean === 'blobs' || clean === 'blobs/sha256') return { kind: 'ignored' };
  if (clean.startsWith('blobs/sha256/')) {
    const hex = clean.slice('blobs/sha256/'.length);
    if (!HEX64.test(hex)) {
      throw new MlcacheError('UNSAFE_PATH', `The bundle holds ${JSON.stringify(cutValue(rawName))}, which is not a sha256 blob name; nothing was read from it.`, {
        hint: 'The bundle is hostile or broken: get it again from a trusted source.',
      });
    }
    return { kind: 'blob', hex };
  }
  // Other algorithms' blobs (sha512) and files other tools add are not read (and never written anywhere).
  return { kind: 'ignored' };
}

/** `oci-layout` must say imageLayoutVersion 1.x (image-layout.md "oci-layout file"). */
export function verifyOciLayout(bytes: Uint8Array): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bundleInvalid('The bundle\'s oci-layout file is not JSON.');
  }
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).imageLayoutVersion : undefined;
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
    throw bundleInvalid(`The bundle's oci-layout file names layout version ${JSON.stringify(cutValue(String(version)))}; mlcache reads version 1.`);
  }
}

export interface IndexManifest {
  /** sha256 hex of the manifest. */
  hex: string;
  size: number;
  mediaType: string;
  refName?: string | undefined;
}

export interface IndexEntryInput {
  digest: string;
  size: number;
  refName: string;
  /** Extra annotations on the descriptor (e.g. the repo id), for tools that list the index. */
  annotations?: Record<string, string> | undefined;
}

/** The index.json of a layout holding `manifests`, in the order given. */
export function buildIndex(manifests: readonly IndexEntryInput[]): Buffer {
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX_MEDIA_TYPE,
    manifests: manifests.map((m) => ({
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      digest: m.digest,
      size: m.size,
      annotations: { ...(m.annotations ?? {}), [REF_NAME_ANNOTATION]: m.refName },
    })),
  };
  return Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The manifests an index.json lists (image index: image-spec image-index.md). Untrusted: every field checked. */
export function parseIndex(bytes: Uint8Array): IndexManifest[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw bundleInvalid('The bundle\'s index.json is not JSON.');
  }
  if (!isObject(parsed) || parsed.schemaVersion !== 2 || !Array.isArray(parsed.manifests)) {
    throw bundleInvalid('The bundle\'s index.json is not an OCI image index (schemaVersion 2 with a manifests array).');
  }
  const out: IndexManifest[] = [];
  for (const [i, m] of parsed.manifests.entries()) {
    if (!isObject(m) || typeof m.digest !== 'string' || typeof m.mediaType !== 'string' || typeof m.size !== 'number' || !Number.isSafeInteger(m.size) || m.size < 0) {
      throw bundleInvalid(`Manifest ${i + 1} of the bundle's index.json is malformed.`);
    }
    const match = /^sha256:([0-9a-f]{64})$/.exec(m.digest);
    if (!match) throw bundleInvalid(`Manifest ${i + 1} of the bundle's index.json has digest ${JSON.stringify(cutValue(m.digest))}; only sha256 is read.`);
    if (m.size > MAX_JSON_BYTES) throw bundleInvalid(`Manifest ${i + 1} of the bundle's index.json is ${m.size} bytes, over the 4 MiB manifest limit.`);
    const annotations = isObject(m.annotations) ? m.annotations : {};
    const ref = annotations[REF_NAME_ANNOTATION];
    out.push({ hex: match[1]!, size: m.size, mediaType: m.mediaType, refName: typeof ref === 'string' ? ref : undefined });
  }
  if (out.length === 0) throw bundleInvalid('The bundle\'s index.json lists no manifest.');
  return out;
}

/**
 * image-spec annotations.md, `org.opencontainers.image.ref.name`:
 * `component ("/" component)*` with `component ::= alphanum (separator alphanum)*`,
 * `separator ::= [-._:@+] | "--"`.
 */
const REF_NAME = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

export function isValidRefName(name: string): boolean {
  return REF_NAME.test(name);
}

/**
 * The ref name of a snapshot in a bundle: `<repo id>:<revision>` (`datasets/<id>:<rev>` for a
 * dataset), or `<repo id>:<commit>` when the revision does not fit the grammar above.
 */
export function snapshotRefName(repo: { id: string; type: string }, revision: string, commit: string): string {
  const prefix = repo.type === 'model' ? '' : `${repo.type}s/`;
  const wanted = `${prefix}${repo.id}:${revision}`;
  return isValidRefName(wanted) ? wanted : `${prefix}${repo.id}:${commit}`;
}

/** The registry-style repository and tag a ref name stands for (`acme/tiny:main` → `acme/tiny`, `main`). */
export function splitRefName(refName: string | undefined): { repository: string; tag?: string | undefined } {
  if (refName === undefined) return { repository: '' };
  const colon = refName.lastIndexOf(':');
  if (colon === -1) return { repository: '', tag: refName };
  return { repository: refName.slice(0, colon).replace(/^(datasets|spaces)\//, ''), tag: refName.slice(colon + 1) };
}
