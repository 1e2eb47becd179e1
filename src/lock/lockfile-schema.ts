/**
 * `mlcache.lock`: the catalog selection resolved to commits and files (docs/cache-models.md
 * "Lock file"). Per Hub entry it records what the catalog asked for (repo, type, revision,
 * patterns) and what that resolved to (the commit and every selected file with the facts
 * huggingface_hub keeps in `trees/<commit>.json`: path, size, blob id, LFS sha256); per URL
 * artifact its url, sha256, size and destination. The committed
 * docs/schemas/mlcache-lock.schema.json is generated from `LockfileSchema`
 * (scripts/generate-schemas.mjs); a test keeps them in sync.
 */
import { z } from 'zod';

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export const LOCKFILE_VERSION = 1;

export const LockedFileSchema = z
  .strictObject({
    path: z.string().min(1).describe('Path inside the repo, `/`-separated.'),
    size: z.number().int().nonnegative().describe('Size in bytes of the file as it lands in the cache (the LFS object for LFS files).'),
    blobId: z.string().regex(HEX40).describe('git blob sha1 (of the LFS pointer, for LFS files): the tree listing’s `oid`.'),
    lfs: z
      .strictObject({ sha256: z.string().regex(HEX64), size: z.number().int().nonnegative() })
      .optional()
      .describe('LFS files: sha256 and size of the content (the blob name in the cache).'),
  })
  .describe('One selected file at the locked commit.');

export const LockedHubEntrySchema = z
  .strictObject({
    group: z.string().min(1),
    name: z.string().min(1),
    kind: z.literal('hub'),
    repo: z.string().min(1),
    type: z.enum(['model', 'dataset', 'space']),
    revision: z.string().min(1).describe('The revision the catalog asks for (branch, tag or commit).'),
    include: z.array(z.string()).optional(),
    exclude: z.array(z.string()).optional(),
    formats: z.array(z.array(z.string())).optional(),
    commit: z.string().regex(HEX40).describe('The commit `revision` pointed at when locked.'),
    files: z.array(LockedFileSchema).describe('Every file the patterns select at `commit`, sorted by path.'),
  })
  .describe('A Hub repo resolved to a commit and its files.');

export const LockedUrlEntrySchema = z
  .strictObject({
    group: z.string().min(1),
    name: z.string().min(1),
    kind: z.literal('url'),
    url: z.string().min(1),
    sha256: z.string().regex(HEX64),
    size: z.number().int().positive(),
    destination: z.string().min(1).describe('Relative to TORCH_HOME.'),
  })
  .describe('A URL artifact with its hash and size.');

export const LockedEntrySchema = z.discriminatedUnion('kind', [LockedHubEntrySchema, LockedUrlEntrySchema]);

export const LockSelectionSchema = z
  .strictObject({
    all: z.boolean(),
    groups: z.array(z.string()).describe('Sorted, each once.'),
    models: z.array(z.string()).describe('--model REPO[@REV] values, sorted, each once.'),
    force: z.boolean().describe('Entries whose platform excludes the locked platform were locked too.'),
  })
  .describe('What `mlcache lock` selected (the same flags as cache-models); `cache-models --frozen` without flags fetches it.');

export const LockfileSchema = z
  .strictObject({
    version: z.literal(LOCKFILE_VERSION).describe('Lock file format version.'),
    platform: z.strictObject({ os: z.string().min(1), arch: z.string().min(1) }).describe('The platform (Node process.platform / process.arch) the selection was made for.'),
    selection: LockSelectionSchema,
    entries: z.array(LockedEntrySchema).describe('Sorted by group, then name.'),
  })
  .describe('mlcache.lock: catalog entries resolved to commits and files (docs/cache-models.md).');

export type LockedFile = z.infer<typeof LockedFileSchema>;
export type LockedHubEntry = z.infer<typeof LockedHubEntrySchema>;
export type LockedUrlEntry = z.infer<typeof LockedUrlEntrySchema>;
export type LockedEntry = z.infer<typeof LockedEntrySchema>;
export type LockSelection = z.infer<typeof LockSelectionSchema>;
export type Lockfile = z.infer<typeof LockfileSchema>;

/** The JSON Schema of mlcache.lock (what docs/schemas/mlcache-lock.schema.json holds). */
export function lockfileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(LockfileSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://github.com/mlcache/mlcache/docs/schemas/mlcache-lock.schema.json',
    title: 'mlcache lock file',
  };
}
