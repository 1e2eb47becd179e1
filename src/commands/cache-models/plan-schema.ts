/**
 * The shape of `cache-models --dry-run --json` (one `{"type":"plan", …}` line on stdout). The
 * committed docs/schemas/cache-models-plan.schema.json is generated from this zod schema
 * (scripts/generate-schemas.mjs) and a test keeps them in sync; another test validates real
 * dry-run output against it.
 */
import { z } from 'zod';

const ErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
});

export const CacheModelsPlanEntrySchema = z.object({
  group: z.string().describe('Catalog group, or "(models)" for --model / MLCACHE_MODELS.'),
  name: z.string(),
  kind: z.enum(['hub', 'url']),
  purpose: z.string(),
  optional: z.boolean(),
  repo: z.string().optional().describe('Hub entries: repo id.'),
  repoType: z.enum(['model', 'dataset', 'space']).optional(),
  revision: z.string().optional(),
  commit: z.string().optional().describe('Hub entries: the commit the revision resolved to.'),
  url: z.string().optional().describe('URL artifacts: where the file comes from.'),
  destination: z.string().describe('Snapshot folder (Hub) or file path under TORCH_HOME (URL).'),
  files: z.number().int().nonnegative().describe('Files selected by the patterns.'),
  filesNeeded: z.number().int().nonnegative().describe('Files still to download.'),
  bytesTotal: z.number().int().nonnegative(),
  bytesNeeded: z.number().int().nonnegative(),
  gated: z.boolean(),
  gatedWithoutToken: z.boolean().describe('Gated on the Hub and no token: cannot be fetched this run.'),
  accessUrl: z.string().optional().describe('Where access to a gated repo is requested.'),
  skipped: z.string().optional().describe('Why this entry is not cached on this machine.'),
  error: ErrorInfoSchema.optional().describe('Planning failed for this entry (it will be reported as failed).'),
  source: z.enum(['hub', 'registry']).optional().describe('Hub entries: where the missing files come from (registry-first with --registry / MLCACHE_REGISTRY).'),
  registry: z.string().optional().describe('Registry-first: the artifact reference looked up (oci://host/name:tag).'),
  registryMiss: z.string().optional().describe('Registry-first: why the registry could not serve this entry (then it comes from the Hub).'),
  localDir: z.string().optional().describe('Hub entries with a catalog "local_dir": the absolute folder that also receives the files (as download --local-dir).'),
  localFilesNeeded: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('With localDir: files to write there (the others are already up to date by huggingface_hub\'s metadata or hash).'),
});

export const CacheModelsVolumeSchema = z.object({
  path: z.string().describe('Nearest existing directory on this volume that will receive data.'),
  device: z.number().describe('st_dev of that directory.'),
  roots: z.array(z.string()).describe('Cache roots on this volume (HF hub cache, TORCH_HOME).'),
  bytesNeeded: z.number().int().nonnegative(),
  bytesRequired: z.number().int().nonnegative().describe('bytesNeeded plus the safety margin (5% + 1 GiB); 0 when nothing is needed.'),
  bytesFree: z.number().nonnegative().optional().describe('Free space for this user, when it could be read.'),
  fits: z.boolean(),
});

export const CacheModelsPlanSchema = z.object({
  type: z.literal('plan').optional(),
  hubCache: z.string(),
  torchHome: z.string(),
  endpoint: z.string(),
  catalogSources: z.array(z.string()).describe('Catalog files merged, shipped first.'),
  selection: z.enum(['flags', 'preset']),
  tokenPresent: z.boolean(),
  registry: z.string().optional().describe('Registry-first base (oci://host[/prefix]) when one is configured.'),
  entries: z.array(CacheModelsPlanEntrySchema),
  bytesTotal: z.number().int().nonnegative(),
  bytesNeeded: z.number().int().nonnegative().describe('Bytes to download, each blob counted once.'),
  volumes: z.array(CacheModelsVolumeSchema),
  fits: z.boolean().describe('Every volume has room for what it needs plus the margin.'),
});

export type CacheModelsPlanEntry = z.infer<typeof CacheModelsPlanEntrySchema>;
export type CacheModelsVolume = z.infer<typeof CacheModelsVolumeSchema>;
export type CacheModelsPlan = z.infer<typeof CacheModelsPlanSchema>;

/** docs/schemas/cache-models-plan.schema.json */
export function cacheModelsPlanJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CacheModelsPlanSchema, { target: 'draft-2020-12' }),
    title: 'mlcache cache-models --dry-run --json plan',
  };
}
