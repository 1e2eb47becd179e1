/**
 * config/hardware_cache.json: the file every stage of the pipeline reads (docs/bootstrap.md,
 * "config/hardware_cache.json", has its shape).
 * Its `cache` block keeps exactly the pipeline's shape (base_dir, torch_home, hf_home, mlx_home
 * relative to the project root, application_caches). Objects are loose so keys mlcache does not
 * know (the pipeline's `environments`, stage mappings, a user's notes) survive a rewrite.
 * config/hardware_cache.schema.json is generated from HardwareCacheSchema (scripts/generate-schemas.mjs).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MlcacheError } from '../errors.js';
import { atomicReplaceFile } from '../util/atomic-write.js';
import { errnoCode, fsError } from '../util/fs-error.js';
import { findProjectRoot } from '../util/project-root.js';
import { formatIssuePath } from '../util/format-issue-path.js';
import { findJsonErrorPosition, lineColumn } from '../util/json-error-position.js';

/** Written by this version of mlcache; 1.0.0 is the older shell bootstrap's format (docs/bootstrap.md). */
export const HARDWARE_CACHE_VERSION = '1.1.0';
export const HARDWARE_CACHE_FILE = path.join('config', 'hardware_cache.json');

const nullableNumber = z.number().nullable().optional();
const nullableString = z.string().nullable().optional();

const ToolStatusSchema = z.looseObject({
  status: z.enum(['ok', 'missing', 'failed', 'skipped']),
  exit_code: z.number().int().nullable().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
});

const GpuSchema = z.looseObject({
  vendor: z.enum(['nvidia', 'amd', 'apple']),
  index: z.number().int().min(0),
  name: z.string(),
  memory_bytes: nullableNumber,
  memory_gb: nullableNumber,
  driver_version: nullableString,
  compute_capability: nullableString,
  cuda_version: nullableString,
  gfx_version: nullableString,
});

export const HardwareBlockSchema = z
  .looseObject({
    platform: z.string().describe('sys.platform spelling: linux, darwin, win32'),
    machine: z.string().describe('platform.machine() spelling: x86_64, aarch64, arm64'),
    has_cuda: z.boolean(),
    has_mps: z.boolean(),
    has_mlx: z.boolean(),
    has_rocm: z.boolean().optional(),
    os_name: z.string().optional(),
    os_release: z.string().optional(),
    os_version: nullableString,
    cpu_brand: nullableString,
    cpu_cores: z.number().int().nullable().optional(),
    cpu_threads: z.number().int().optional(),
    memory_bytes: z.number().optional(),
    memory_gb: nullableNumber,
    disk_path: z.string().optional(),
    disk_free_bytes: nullableNumber,
    disk_free_gb: nullableNumber,
    gpu_type: z.enum(['cuda', 'mps', 'rocm', 'cpu']).optional(),
    gpu_count: z.number().int().min(0).optional(),
    gpu_name: nullableString,
    gpu_memory_gb: nullableNumber,
    compute_capability: nullableString,
    cuda_version: nullableString,
    driver_version: nullableString,
    gpus: z.array(GpuSchema).optional(),
    tools: z.record(z.string(), ToolStatusSchema).optional(),
  })
  .describe('Detected hardware; refreshed by every `mlcache bootstrap`.');

const recommendation = <T extends z.ZodType>(value: T) => z.looseObject({ value, reason: z.string() });

export const RecommendationsSchema = z
  .looseObject({
    device: recommendation(z.enum(['cuda', 'mps', 'cpu'])).optional(),
    compute_type: recommendation(z.enum(['float16', 'int8', 'float32'])).optional(),
    batch_size: recommendation(z.number().int().positive()).optional(),
    whisper_backend: recommendation(z.enum(['mlx', 'whisperx'])).optional(),
    whisper_model: recommendation(z.string()).optional(),
    model_groups: recommendation(z.array(z.string())).optional(),
  })
  .describe('Settings recommended for this hardware, each with its reason.');

const relativeOrAbsolutePath = z.string().min(1);

export const CacheBlockSchema = z
  .looseObject({
    base_dir: relativeOrAbsolutePath.describe('Cache root, relative to the project root (or absolute).'),
    torch_home: relativeOrAbsolutePath.describe('TORCH_HOME, relative to the project root (or absolute).'),
    hf_home: relativeOrAbsolutePath.describe('HF_HOME; the hub cache is <hf_home>/hub.'),
    mlx_home: relativeOrAbsolutePath.describe('MLX_CACHE_DIR.'),
    application_caches: z.record(z.string(), z.string()).default({}).describe('Project-specific caches, name -> path.'),
  })
  .describe('Cache locations every pipeline stage reads.');

export const HardwareCacheSchema = z
  .looseObject({
    version: z.string(),
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }).optional(),
    hardware: HardwareBlockSchema,
    recommendations: RecommendationsSchema.optional(),
    cache: CacheBlockSchema,
  })
  .describe('config/hardware_cache.json, written by `mlcache bootstrap` and read by `mlcache env` / `mlcache run`.');

export type HardwareCache = z.infer<typeof HardwareCacheSchema>;
export type CacheBlock = z.infer<typeof CacheBlockSchema>;

export const DEFAULT_CACHE_BLOCK: CacheBlock = {
  base_dir: '.cache',
  torch_home: '.cache/torch',
  hf_home: '.cache/huggingface',
  mlx_home: '.cache/mlx',
  application_caches: {},
};

const FIX_HINT = 'Fix the file by hand, or run `mlcache bootstrap --force` to rewrite it (the old file is kept as a .bak-<timestamp> backup).';

/** Parse and validate the file's text; every failure names the file and where. */
export function parseHardwareCache(text: string, file: string): HardwareCache {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // The scanner always finds what JSON.parse rejected; the end of the text is only a fallback.
    const { line, column } = findJsonErrorPosition(text) ?? lineColumn(text, text.length);
    throw new MlcacheError('HARDWARE_CACHE_INVALID', `${file} is not valid JSON (line ${line}, column ${column}).`, {
      hint: FIX_HINT,
      cause: error,
      details: { file, line, column },
    });
  }
  const result = HardwareCacheSchema.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message.replace(/^Invalid input: /, '')}`);
    throw new MlcacheError('HARDWARE_CACHE_INVALID', `${file} is not a valid hardware cache: ${issues.join('; ')}`, {
      hint: FIX_HINT,
      details: { file, issues },
    });
  }
  return result.data;
}

/** The parsed file, or undefined when it does not exist. */
export async function readHardwareCache(file: string): Promise<HardwareCache | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MlcacheError('FILESYSTEM', `Cannot read ${file}.`, { cause: error, hint: 'Check the file permissions.' });
  }
  return parseHardwareCache(text, file);
}

export interface MergeHardwareCacheInput {
  existing: HardwareCache | undefined;
  hardware: Record<string, unknown>;
  recommendations: Record<string, unknown>;
  now: Date;
}

/** ISO 8601 in UTC without milliseconds, as the pipeline wrote it ("2025-11-25T15:18:46Z"). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The next version of the file. Re-running bootstrap refreshes `hardware`, `recommendations`
 * and `updated_at`; it keeps `created_at`, the whole `cache` block as the user left it (custom
 * paths, application caches) and every key it does not know. Pure.
 */
export function mergeHardwareCache(input: MergeHardwareCacheInput): HardwareCache {
  const stamp = isoSeconds(input.now);
  const previous = input.existing;
  const cache: CacheBlock = previous ? { ...DEFAULT_CACHE_BLOCK, ...previous.cache } : { ...DEFAULT_CACHE_BLOCK };
  return {
    ...(previous ?? {}),
    version: HARDWARE_CACHE_VERSION,
    created_at: previous?.created_at ?? stamp,
    updated_at: stamp,
    hardware: input.hardware as HardwareCache['hardware'],
    recommendations: input.recommendations,
    cache,
  };
}

/**
 * Write through a temp file + rename so a reader never sees half a file: on a full disk the old
 * file stays as it was (the temp file is removed) and the error is DISK_FULL.
 */
export async function writeHardwareCache(file: string, data: HardwareCache): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await atomicReplaceFile(file, `${JSON.stringify(data, null, 2)}\n`);
  } catch (error) {
    throw writeError(error, `write ${file}`);
  }
}

/**
 * util/fs-error.ts's mapping (DISK_FULL, PERMISSION, FILESYSTEM) with this file's hints. Node's
 * recursive mkdir reports a full disk as ENOENT (nodejs/node#42808): ENOENT here, under a root
 * bootstrap has just created, is most likely that, so it is named as a possible cause.
 */
function writeError(error: unknown, action: string): MlcacheError {
  return fsError(error, action, {
    diskFull: 'Free disk space, then run the same command again.',
    permission: 'Check that the directory is writable.',
    other: errnoCode(error) === 'ENOENT' ? 'Check that the directory exists, is writable and its disk is not full.' : 'Check that the directory is writable.',
  });
}

/** Copy the file to `<file>.bak-<UTC timestamp>` (never overwriting an older backup). */
export async function backupHardwareCache(file: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  let target = `${file}.bak-${stamp}`;
  for (let n = 1; ; n++) {
    try {
      await fs.copyFile(file, target, fs.constants.COPYFILE_EXCL);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(error, `back up ${file}`);
      target = `${file}.bak-${stamp}-${n}`;
    }
  }
}

export interface LocatedHardwareCache {
  root: string;
  file: string;
  data: HardwareCache;
}

/**
 * The project's hardware cache: `<root>/config/hardware_cache.json` of the root given, else of the
 * nearest project above `cwd` (util/project-root.ts, the finder every command shares).
 */
export async function locateHardwareCache(options: { root?: string | undefined; cwd: string }): Promise<LocatedHardwareCache> {
  const root = options.root !== undefined ? path.resolve(options.cwd, options.root) : findProjectRoot(options.cwd)?.root;
  if (root !== undefined) {
    const file = path.join(root, HARDWARE_CACHE_FILE);
    const data = await readHardwareCache(file);
    if (data) return { root, file, data };
  }
  const where = root !== undefined ? path.join(root, HARDWARE_CACHE_FILE) : `${HARDWARE_CACHE_FILE} in ${options.cwd} or any parent`;
  throw new MlcacheError('CONFIG_NOT_FOUND', `No hardware cache found (looked for ${where}).`, {
    hint: 'Run `mlcache bootstrap` in the project root first, or pass --root DIR.',
  });
}

/** config/hardware_cache.schema.json (scripts/generate-schemas.mjs; a test keeps it in sync). */
export function hardwareCacheJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(HardwareCacheSchema, { target: 'draft-2020-12', io: 'input' }),
    title: 'mlcache config/hardware_cache.json',
  };
}
