import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { authLookupKeys, findCredentials, normalizeAuthKey, readRegistryCredentials } from '../../../src/registry/credentials.js';
import { redact } from '../../../src/util/redact.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('auth file entries', () => {
  it.each([
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['HTTP://Registry.Example.com:5000/v2/', 'registry.example.com:5000'],
    ['quay.io/User/Repo', 'quay.io/User/Repo'],
    ['ghcr.io', 'ghcr.io'],
  ])('normalizes the key %s', (key, expected) => {
    expect(normalizeAuthKey(key)).toBe(expected);
  });

  it('looks up the most specific key first (containers-auth.json(5))', () => {
    expect(authLookupKeys('reg.local', 'ns/user/image')).toEqual(['reg.local/ns/user/image', 'reg.local/ns/user', 'reg.local/ns', 'reg.local']);
  });

  it('reads auth, identitytoken, registrytoken and username/password entries', () => {
    const config = {
      auths: {
        'https://a.example/v1/': { auth: b64('alice:pa:ss') },
        'b.example': { identitytoken: 'refresh-me' },
        'c.example': { registrytoken: 'bearer-me' },
        'd.example': { username: 'dora', password: 'pw' },
        'e.example': { auth: b64('no-colon') },
        'reg.local/team': { auth: b64('team:t') },
        'reg.local': { auth: b64('all:a') },
      },
      credHelpers: { 'f.example': 'ecr-login' },
    };
    expect(findCredentials(config, 'a.example')).toEqual({ kind: 'basic', username: 'alice', password: 'pa:ss' });
    expect(findCredentials(config, 'b.example')).toEqual({ kind: 'identity-token', token: 'refresh-me' });
    expect(findCredentials(config, 'c.example')).toEqual({ kind: 'bearer', token: 'bearer-me' });
    expect(findCredentials(config, 'd.example')).toEqual({ kind: 'basic', username: 'dora', password: 'pw' });
    expect(findCredentials(config, 'e.example')).toBeUndefined();
    expect(findCredentials(config, 'f.example')).toBeUndefined(); // helpers are not run
    expect(findCredentials(config, 'reg.local', 'team/model')).toEqual({ kind: 'basic', username: 'team', password: 't' });
    expect(findCredentials(config, 'reg.local', 'other/model')).toEqual({ kind: 'basic', username: 'all', password: 'a' });
    expect(findCredentials(config, 'docker.io')).toBeUndefined();
    expect(findCredentials({ auths: { 'https://index.docker.io/v1/': { auth: b64('d:h') } } }, 'docker.io')).toEqual({ kind: 'basic', username: 'd', password: 'h' });
  });
});

describe('readRegistryCredentials', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the files in the order settings give, skipping missing ones, and registers the secret', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-creds-'));
    const home = path.join(dir, 'home');
    const runtime = path.join(dir, 'run');
    const settings = loadSettings({ env: { HOME: home, XDG_RUNTIME_DIR: runtime }, cwd: dir });
    expect(settings.registry.authFiles).toEqual([
      path.join(runtime, 'containers', 'auth.json'),
      path.join(home, '.config', 'containers', 'auth.json'),
      path.join(home, '.docker', 'config.json'),
    ]);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(home, '.docker'), { recursive: true });
    await writeFile(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('bob:s3cret-pass') } } }));
    const found = await readRegistryCredentials({ registry: 'reg.example:5000', authFiles: settings.registry.authFiles });
    expect(found).toEqual({ kind: 'basic', username: 'bob', password: 's3cret-pass' });
    expect(redact('x s3cret-pass y')).toBe('x *** y');
    expect(await readRegistryCredentials({ registry: 'other.example', authFiles: settings.registry.authFiles })).toBeUndefined();
  });

  it('names a malformed file without quoting it', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-creds-'));
    const file = path.join(dir, 'auth.json');
    await writeFile(file, '{"auths": {"h": {"auth": "c2VjcmV0LXZhbHVl"');
    const error = await readRegistryCredentials({ registry: 'h', authFiles: [file] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).not.toContain('c2VjcmV0');
  });
});

describe('Settings.registry', () => {
  it('reads MLCACHE_REGISTRY, MLCACHE_REGISTRY_TOKEN, MLCACHE_INSECURE_REGISTRY and the auth file order', () => {
    const s = loadSettings({
      env: {
        HOME: '/home/u',
        MLCACHE_REGISTRY: 'oci://reg/models',
        MLCACHE_REGISTRY_TOKEN: 'tok',
        MLCACHE_INSECURE_REGISTRY: ' Reg.Local:5000, ,other ',
        REGISTRY_AUTH_FILE: '~/auth.json',
        XDG_RUNTIME_DIR: '/run/user/1',
        XDG_CONFIG_HOME: '/cfg',
        DOCKER_CONFIG: '/dock',
      },
      cwd: '/w',
    });
    expect(s.registry).toEqual({
      default: 'oci://reg/models',
      token: 'tok',
      insecure: ['reg.local:5000', 'other'],
      // REGISTRY_AUTH_FILE replaces the primary file (XDG_RUNTIME_DIR); the others follow.
      authFiles: ['/home/u/auth.json', '/cfg/containers/auth.json', '/dock/config.json'],
    });
    expect(loadSettings({ env: { HOME: '/home/u' }, cwd: '/w' }).registry).toEqual({
      default: undefined,
      token: undefined,
      insecure: [],
      authFiles: ['/home/u/.config/containers/auth.json', '/home/u/.docker/config.json'],
    });
  });
});
