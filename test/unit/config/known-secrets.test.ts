import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownSecrets, proxySecrets } from '../../../src/config/known-secrets.js';
import { loadSettings } from '../../../src/config/settings.js';

describe('knownSecrets', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'mlcache-secrets-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('names every token and password the settings and flags carry', async () => {
    const tokenPath = path.join(home, 'token');
    await writeFile(tokenPath, 'hf_fromTheTokenFile123\n');
    const settings = loadSettings({
      env: {
        HOME: home,
        HF_TOKEN: 'hf_fromEnv12345678',
        HUGGING_FACE_HUB_TOKEN: 'hf_legacy12345678',
        HF_TOKEN_PATH: tokenPath,
        MLCACHE_REGISTRY_TOKEN: 'reg-env-token',
        HTTPS_PROXY: 'http://bob:p%40ss-https@proxy:3128',
        http_proxy: 'http://amy:pass-http@proxy:3128',
      },
      cwd: home,
      project: false,
    });
    const secrets = knownSecrets(settings, { token: 'hf_flag123456789', registryToken: 'reg-flag-token' });
    for (const s of ['hf_flag123456789', 'hf_fromEnv12345678', 'hf_legacy12345678', 'hf_fromTheTokenFile123', 'reg-env-token', 'reg-flag-token', 'p%40ss-https', 'p@ss-https', 'pass-http']) {
      expect(secrets).toContain(s);
    }
    // The Proxy-Authorization value undici builds from the URL.
    expect(secrets).toContain(Buffer.from('bob:p@ss-https').toString('base64'));
    expect(secrets.join(' ')).not.toContain('bob');
  });

  it('has nothing for a proxy without a password or a value that is not a URL', () => {
    expect(proxySecrets('http://proxy:3128')).toEqual([]);
    expect(proxySecrets('not a url')).toEqual([]);
    expect(proxySecrets(undefined)).toEqual([]);
  });
});
