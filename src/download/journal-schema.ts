/** The resume journal's schema (journal.ts), in its own module so zod loads only when one is read. */
import { z } from 'zod';
import { JOURNAL_VERSION } from './journal.js';

export const JournalSchema = z
  .object({
    format: z.literal('mlcache-journal'),
    version: z.literal(JOURNAL_VERSION),
    size: z.number().int().nonnegative(),
    digest: z.object({ algorithm: z.enum(['sha256', 'git-sha1']), hex: z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/) }),
    chunkSize: z.number().int().positive(),
    completed: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
    updatedAt: z.string().optional(),
  })
  .refine((j) => j.completed.every(([s, e]) => s < e && e <= j.size), { message: 'completed ranges outside the file' });

