/**
 * Wire schemas for the Hub JSON mlcache reads, validated at the boundary (docs/architecture.md, "Rules the code follows"). Loose
 * objects: the Hub adds fields freely; only what mlcache uses is checked.
 */
import { z } from 'zod';

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** `gated` is `false | "auto" | "manual"` (hf_api.py::ModelInfo); anything else truthy counts as manual. */
const GatedSchema = z
  .union([z.boolean(), z.string(), z.null()])
  .optional()
  .transform((value): false | 'auto' | 'manual' => {
    if (value === undefined || value === null || value === false || value === '') return false;
    return value === 'auto' ? 'auto' : 'manual';
  });

/** `GET /api/{type}s/{id}/revision/{rev}`: only `sha` is required (what snapshot_download asserts). */
export const ApiRevisionInfoSchema = z.looseObject({
  id: z.string().optional(),
  sha: z.string().regex(COMMIT, 'expected a 40-hex commit'),
  private: z.boolean().optional().default(false),
  gated: GatedSchema,
});
export type ApiRevisionInfo = z.infer<typeof ApiRevisionInfoSchema>;

/** A sibling of the revision info with `?blobs=true` (hf_api.py::RepoSibling): size, blobId and LFS facts. */
export const ApiSiblingSchema = z.looseObject({
  rfilename: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  blobId: z.string().regex(COMMIT, 'expected a 40-hex git oid').optional(),
  lfs: z.looseObject({ sha256: z.string().regex(SHA256, 'expected a 64-hex sha256'), size: z.number().int().nonnegative() }).nullish(),
});

/** `GET /api/{type}s/{id}/revision/{rev}?blobs=true`: the commit and every file with its blob facts. */
export const ApiRevisionFilesSchema = ApiRevisionInfoSchema.extend({ siblings: z.array(ApiSiblingSchema).optional() });

/** A file entry of `GET /api/{type}s/{id}/tree/...` (hf_api.py::RepoFile). */
export const ApiTreeFileSchema = z.looseObject({
  type: z.literal('file'),
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  oid: z.string().regex(COMMIT, 'expected a 40-hex git oid'),
  lfs: z
    .looseObject({
      oid: z.string().regex(SHA256, 'expected a 64-hex sha256'),
      size: z.number().int().nonnegative(),
      pointerSize: z.number().int().nonnegative().optional(),
    })
    .nullish(),
  xetHash: z.string().nullish(),
});
export type ApiTreeFile = z.infer<typeof ApiTreeFileSchema>;

/** Any tree entry: only `type` is needed to skip directories. */
export const ApiTreeEntrySchema = z.looseObject({ type: z.string(), path: z.string().optional() });

export const ApiWhoAmISchema = z.looseObject({
  name: z.string().min(1),
  type: z.string().optional(),
});

/** `path.to.key: message; …`, the way mlcache shows zod issues. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
