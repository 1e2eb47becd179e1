/**
 * A server that answers every range with its headers and a few bytes, then goes silent: only real
 * progress (1 MiB, or the rest of the range) resets a range's retry budget, so this fails with a
 * typed NETWORK_TIMEOUT after a bounded number of stalled attempts instead of never.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTransferEngine } from '../../src/download/index.js';
import { bytes, startOrigin } from '../helpers/hostile-hub.js';
import { mlcacheRejectionFrom } from '../helpers/errors.js';
import { tempDir, testAgent } from '../helpers/transfer-items.js';

describe('a server that trickles a few bytes per request, then stalls', () => {
  it('fails with NETWORK_TIMEOUT after a bounded number of attempts', async () => {
    const content = bytes(300_000, 5);
    const origin = await startOrigin((req, res) => {
      const start = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(206, { 'content-length': String(content.length - start), 'content-range': `bytes ${start}-${content.length - 1}/${content.length}` });
      res.write(content.subarray(start, start + 100)); // then nothing, ever
    });
    try {
      const dir = await tempDir();
      const sha = createHash('sha256').update(content).digest('hex');
      const engine = createTransferEngine({ dispatcher: testAgent(), stallTimeoutMs: 100, retry: { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 10 } });
      const started = Date.now();
      const error = await mlcacheRejectionFrom(
        engine.download({
          id: 'x',
          label: 'x',
          size: content.length,
          digest: { algorithm: 'sha256', hex: sha },
          destination: path.join(dir, sha),
          resolve: () => Promise.resolve({ url: `${origin.url}/blob`, headers: {} }),
        }),
      );
      await engine.close();
      expect(error.code).toBe('NETWORK_TIMEOUT');
      // 3000 attempts of 100 ms would be 5 minutes; a bounded budget ends in seconds.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await origin.close();
    }
  }, 20_000);
});
