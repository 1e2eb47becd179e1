import { describe, expect, it } from 'vitest';
import { FaultEngine, TokenBucket, createRng, rateLimitBucket, ruleMatches } from '../../../src/emulator/faults.js';

describe('fault rules', () => {
  it('match by origin, method and path substring or RegExp', () => {
    const rule = { match: { origin: 'cdn' as const, method: 'get', path: /\.bin$/ }, action: { kind: 'delay' as const, ms: 1 } };
    expect(ruleMatches(rule, 'cdn', 'GET', '/repos/x.bin')).toBe(true);
    expect(ruleMatches(rule, 'hub', 'GET', '/repos/x.bin')).toBe(false);
    expect(ruleMatches(rule, 'cdn', 'HEAD', '/repos/x.bin')).toBe(false);
    expect(ruleMatches(rule, 'cdn', 'GET', '/repos/x.json')).toBe(false);
    expect(ruleMatches({ action: rule.action, match: { path: 'resolve' } }, 'hub', 'GET', '/a/resolve/main/x')).toBe(true);
  });

  it('consume pre and body faults separately and honour times', () => {
    const engine = new FaultEngine({
      rules: [
        { action: { kind: 'drop', afterBytes: 5 }, times: 1 },
        { action: { kind: 'status', status: 500 }, times: 2 },
      ],
    });
    expect(engine.take('hub', 'GET', '/x', 'pre')).toEqual([{ kind: 'status', status: 500 }]);
    expect(engine.take('hub', 'GET', '/x', 'body')).toEqual([{ kind: 'drop', afterBytes: 5 }]);
    expect(engine.take('hub', 'GET', '/x', 'body')).toEqual([]);
    expect(engine.take('hub', 'GET', '/x', 'pre')).toHaveLength(1);
    expect(engine.take('hub', 'GET', '/x', 'pre')).toHaveLength(0);
  });

  it('uses a seeded RNG', () => {
    const a = createRng(3);
    const b = createRng(3);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('names the RateLimit bucket like the Hub', () => {
    expect(rateLimitBucket('/org/m/resolve/main/x')).toBe('resolvers');
    expect(rateLimitBucket('/api/models/org/m')).toBe('api');
    expect(rateLimitBucket('/org/m')).toBe('pages');
  });
});

describe('TokenBucket', () => {
  it('spaces reservations at the configured rate after a small burst', () => {
    const bucket = new TokenBucket(1000, 0);
    expect(bucket.reserve(100, 0)).toBe(100);
    expect(bucket.reserve(100, 0)).toBe(200);
    expect(bucket.reserve(100, 1000)).toBe(100);
  });
});
