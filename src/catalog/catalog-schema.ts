/**
 * The model catalog's shape (config/models.json and user catalogs). The JSON Schema committed at
 * config/models.schema.json is generated from `CatalogSchema` (scripts/generate-schemas.mjs); a
 * test keeps them in sync. Rules zod cannot express in a JSON Schema (repo ids, glob syntax,
 * duplicate names, safe destinations) live in validate-catalog.ts.
 */
import { z } from 'zod';

export const GROUP_NAME = /^[a-z0-9][a-z0-9_-]*$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const PlatformSchema = z
  .strictObject({
    os: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Node's process.platform values this applies to, e.g. ['darwin'] or ['linux', 'win32']."),
    arch: z.array(z.string().min(1)).min(1).optional().describe("Node's process.arch values, e.g. ['arm64'] or ['x64']."),
  })
  .describe('Only on these platforms; elsewhere the entry or group is skipped with a reason (unless --force).');

export type Platform = z.infer<typeof PlatformSchema>;

const common = {
  name: z
    .string()
    .min(1)
    .optional()
    .describe('Name unique within the group; a user catalog replaces an entry by this name. Default: the repo id, or the file name of a URL artifact.'),
  purpose: z.string().min(1).describe('One line: what loads this and why.'),
  optional: z.boolean().default(false).describe('A failure only warns and does not make the run fail.'),
  platform: PlatformSchema.optional(),
};

export const HubEntrySchema = z
  .strictObject({
    ...common,
    repo: z.string().min(1).describe('Hub repo id: name or namespace/name.'),
    type: z.enum(['model', 'dataset', 'space']).default('model').describe('Repo type.'),
    revision: z.string().min(1).default('main').describe('Branch, tag or 40-hex commit.'),
    include: z
      .array(z.string())
      .optional()
      .describe('fnmatch globs (case-sensitive, * crosses /, trailing / = everything below). Default: every file.'),
    exclude: z.array(z.string()).optional().describe('fnmatch globs removed after include (exclude wins).'),
    formats: z
      .array(z.array(z.string()).min(1))
      .min(1)
      .optional()
      .describe(
        'Ordered weight-format alternatives, each a list of fnmatch globs (e.g. [["model*.safetensors", "model.safetensors.index.json"], ["pytorch_model*.bin", "pytorch_model.bin.index.json"]]): the first that matches a file at the commit is fetched, the others never are. None present is an error for the entry.',
      ),
    gated: z.boolean().default(false).describe('The Hub gates this repo: a token with granted access is needed.'),
    approxBytes: z.number().int().nonnegative().optional().describe('Approximate download size in bytes, for --help (the plan uses exact sizes).'),
    local_dir: z
      .string()
      .min(1, 'must name a folder (it is empty)')
      .optional()
      .describe(
        'Also put the selected files as real files in this folder, as `download --local-dir` does (huggingface_hub metadata in <folder>/.cache/huggingface/download). Relative to the project root (the folder holding config/), or absolute; not inside the hub cache.',
      ),
  })
  .describe('A Hugging Face Hub repo, cached in the HF hub cache.');

export const UrlEntrySchema = z
  .strictObject({
    ...common,
    url: z.url({ protocol: /^https?$/ }).describe('Where to download the file (http or https).'),
    sha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex characters').describe('sha256 of the file; a mismatch is refused.'),
    size: z.number().int().positive().describe('Exact size in bytes.'),
    destination: z
      .string()
      .min(1)
      .describe('Path relative to TORCH_HOME, e.g. hub/checkpoints/<file> (torch.hub.load_state_dict_from_url).'),
  })
  .describe('A single file from a URL, stored under TORCH_HOME.');

export const EntrySchema = z.union([HubEntrySchema, UrlEntrySchema]);

export const GroupSchema = z.strictObject({
  description: z.string().min(1).optional().describe('One line shown by --help.'),
  platform: PlatformSchema.optional(),
  replace: z
    .boolean()
    .optional()
    .describe('User catalogs only: replace the shipped group of this name instead of merging entries into it.'),
  entries: z.array(EntrySchema).default([]),
});

export const CatalogSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).default(1).describe('Catalog format version.'),
    groups: z
      .record(z.string().regex(GROUP_NAME, 'group names use a-z, 0-9, - and _, starting with a letter or digit'), GroupSchema)
      .default({})
      .describe('Named groups of models, selected with --group NAME (and --all).'),
    pins: z
      .record(z.string(), z.string().min(1))
      .optional()
      .describe('Repo id → revision, applied to every entry of that repo after merging (pin a commit without restating the entry).'),
    registry: z
      .string()
      .regex(/^oci:\/\/[^\s/]+(\/[^\s]*)?$/, 'a registry base is oci://host[:port][/prefix]')
      .optional()
      .describe('Registry-first cache-models: the OCI registry base (oci://host[:port][/prefix]) tried before the Hub; --registry and MLCACHE_REGISTRY win (docs/registry.md).'),
  })
  .describe('mlcache model catalog (docs/cache-models.md).');

export type HubEntry = z.infer<typeof HubEntrySchema>;
export type UrlEntry = z.infer<typeof UrlEntrySchema>;
export type Entry = z.infer<typeof EntrySchema>;
export type Group = z.infer<typeof GroupSchema>;
export type Catalog = z.infer<typeof CatalogSchema>;

export function isUrlEntry(entry: Entry): entry is UrlEntry {
  return 'url' in entry;
}

export function isHubEntry(entry: Entry): entry is HubEntry {
  return 'repo' in entry;
}

/** The name an entry is known by: explicit, else the repo id, else the file name of its destination. */
export function entryName(entry: Entry): string {
  if (entry.name !== undefined) return entry.name;
  if (isHubEntry(entry)) return entry.repo;
  return entry.destination.split('/').pop() ?? entry.destination;
}

/** The JSON Schema for catalog files (what config/models.schema.json holds). */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CatalogSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://github.com/mlcache/mlcache/config/models.schema.json',
    title: 'mlcache model catalog',
  };
}
