/**
 * An endpoint that is not an http(s) URL is a usage error at once (exit 2, one sentence naming where
 * it came from), not a run of network retries of a request that can never be made.
 */
import { describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';

ensureBuilt();

describe('the Hub endpoint', () => {
  for (const [how, args, env] of [
    ['--endpoint ftp://…', ['--endpoint', 'ftp://mirror.internal/hf'], {}],
    ['HF_ENDPOINT without a scheme', [], { HF_ENDPOINT: 'huggingface.co' }],
  ] as const) {
    it(`${how}: exit 2 at once, naming the source`, async () => {
      const started = Date.now();
      const result = await runCli(['download', 'acme/tiny', ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env } });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(how.startsWith('--') ? /^error: The Hub endpoint from --endpoint is not an http\(s\) URL: ftp:\/\/mirror\.internal\/hf$/m : /^error: The Hub endpoint from HF_ENDPOINT is not an http\(s\) URL: huggingface\.co$/m);
      expect(result.stderr).toMatch(/^hint: /m);
      expect(result.stderr).not.toMatch(/retry|\n\s+at /);
      // No network attempt: well under one retry delay.
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }
});
