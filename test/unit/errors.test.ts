import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, MlcacheError } from '../../src/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| ([A-Z_]+) \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );

  it('documents every error code with its exit code', () => {
    for (const [code, exit] of Object.entries(EXIT_CODES)) {
      expect(rows.get(code), `docs/errors.md row for ${code}`).toBe(exit);
    }
  });

  it('documents no code that does not exist', () => {
    expect([...rows.keys()].filter((code) => !(code in EXIT_CODES))).toEqual([]);
  });
});

describe('MlcacheError', () => {
  it('carries code, hint, cause and the mapped exit code', () => {
    const cause = new Error('low level');
    const e = new MlcacheError('GATED_REPO', 'gated', { hint: 'accept', cause });
    expect(e.exitCode).toBe(4);
    expect(e.hint).toBe('accept');
    expect(e.cause).toBe(cause);
  });
});
