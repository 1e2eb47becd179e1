import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../../src/cli/version.js';
import { defaultUserAgent } from '../../../src/hub/index.js';
import { mlcacheVersion } from '../../../src/util/version.js';

const root = path.resolve(import.meta.dirname, '../../..');

describe('mlcacheVersion', () => {
  it('is package.json’s version, and both --version and the user agent use it', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(mlcacheVersion()).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    expect(defaultUserAgent()).toBe(`mlcache/${pkg.version}; node/${process.versions.node}`);
  });
});
