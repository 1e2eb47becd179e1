/** The resume journal's header schema (journal.ts), in its own module so zod loads only when one is read. */
import { z } from 'zod';
import { DIGEST_ALGORITHMS } from '../util/digest-algorithm.js';

export const JournalHeaderSchema = z.object({
  format: z.literal('mlcache-journal'),
  /** 2: append-only records follow the header; 1: `completed` in the object itself (older releases). */
  version: z.union([z.literal(1), z.literal(2)]),
  size: z.number().int().nonnegative(),
  digest: z.object({ algorithm: z.enum(DIGEST_ALGORITHMS), hex: z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/) }),
  chunkSize: z.number().int().positive(),
  completed: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  updatedAt: z.string().optional(),
});
