/**
 * Loaded with `node --import` into an mlcache child by scripts/bench-robustness.mjs: at exit it
 * writes getrusage's peak RSS (KiB) to $BENCH_RSS_FILE. A process killed by a signal never gets
 * here; the bench then uses its polled VmHWM.
 */
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.BENCH_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
