import { describe, expect, it } from 'vitest';
import { doctorPassed, evaluateDoctor, parseNodeVersion, type DoctorFacts } from '../../../src/maintenance/doctor-checks.js';
import { parseHardwareCache } from '../../../src/maintenance/gather-doctor-facts.js';

function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    nodeVersion: 'v22.3.0',
    dirs: [
      { label: 'hub cache', path: '/h/hub', writable: true, exists: true, freeBytes: 500e9 },
      { label: 'TORCH_HOME', path: '/t', writable: true, exists: true, freeBytes: 500e9 },
    ],
    symlinks: true,
    endpoint: { url: 'https://huggingface.co', reachable: true, status: 200 },
    token: { present: true, source: 'HF_TOKEN', name: 'alice' },
    proxy: { http: undefined, https: undefined, noProxy: undefined },
    offline: false,
    hubCache: '/h/hub',
    hfHome: '/h',
    torchHome: '/t',
    env: {},
    ...over,
  };
}

const byId = (checks: ReturnType<typeof evaluateDoctor>, id: string) => checks.find((c) => c.id === id);

describe('evaluateDoctor', () => {
  it('all healthy: every line ok and the run passes', () => {
    const checks = evaluateDoctor(facts());
    expect(checks.every((c) => c.status === 'ok')).toBe(true);
    expect(checks.map((c) => c.id)).toEqual(['node', 'writable:hub cache', 'writable:TORCH_HOME', 'symlinks', 'free-space:hub cache', 'endpoint', 'token', 'proxy']);
    expect(doctorPassed(checks)).toBe(true);
  });

  it('names the proxy in effect without its credentials', () => {
    const checks = evaluateDoctor(facts({ proxy: { https: 'http://proxyuser:s3cretpass@proxy.corp:3128', http: 'http://otheruser:hunter22@proxy.corp:3128', noProxy: 'localhost' } }));
    const text = JSON.stringify(checks);
    expect(byId(checks, 'proxy')?.message).toMatch(/HTTPS_PROXY=http:\/\/proxy\.corp:3128/);
    expect(text).not.toMatch(/s3cretpass|hunter22|proxyuser|otheruser/);
  });

  it.each([
    ['v20.18.3', 'fail'],
    ['v20.19.0', 'ok'],
    ['v21.0.0', 'ok'],
    ['v18.20.0', 'fail'],
  ] as const)('node %s → %s', (version, status) => {
    expect(byId(evaluateDoctor(facts({ nodeVersion: version })), 'node')?.status).toBe(status);
  });

  it('no token warns but does not fail; an invalid token fails with the fix', () => {
    const none = evaluateDoctor(facts({ token: { present: false } }));
    expect(byId(none, 'token')).toMatchObject({ status: 'warn', fix: 'Set HF_TOKEN or run `hf auth login`.' });
    expect(doctorPassed(none)).toBe(true);
    const bad = evaluateDoctor(facts({ token: { present: true, source: 'token file', invalid: true } }));
    expect(byId(bad, 'token')?.status).toBe('fail');
    expect(doctorPassed(bad)).toBe(false);
  });

  it('unreachable endpoint fails and names the error', () => {
    const checks = evaluateDoctor(facts({ endpoint: { url: 'http://127.0.0.1:9', reachable: false, error: 'connection refused' } }));
    expect(byId(checks, 'endpoint')).toMatchObject({ status: 'fail', message: 'endpoint http://127.0.0.1:9 unreachable: connection refused' });
  });

  it('an unwritable cache fails; low space warns, very low space fails', () => {
    const checks = evaluateDoctor(
      facts({
        dirs: [
          { label: 'hub cache', path: '/h/hub', writable: false, exists: true, error: 'EACCES', freeBytes: 5e9 },
          { label: 'TORCH_HOME', path: '/t', writable: true, exists: true, freeBytes: 0.5e9 },
        ],
      }),
    );
    expect(byId(checks, 'writable:hub cache')).toMatchObject({ status: 'fail', message: 'hub cache is not writable: /h/hub (EACCES)' });
    expect(byId(checks, 'free-space:hub cache')?.status).toBe('warn');
    expect(byId(checks, 'free-space:TORCH_HOME')?.status).toBe('fail');
  });

  it('flags conflicting variables: TRANSFORMERS_CACHE, HF_HOME/HF_HUB_CACHE/TORCH_HOME vs hardware_cache.json, offline mode', () => {
    const checks = evaluateDoctor(
      facts({
        env: { TRANSFORMERS_CACHE: '/elsewhere', HF_HUB_CACHE: '/other/hub', HF_HUB_OFFLINE: '1' },
        offline: true,
        hardwareCache: { file: '/p/config/hardware_cache.json', hfHome: '/p/.cache/huggingface', torchHome: '/p/.cache/torch' },
      }),
    );
    expect(byId(checks, 'TRANSFORMERS_CACHE')).toMatchObject({ status: 'warn', fix: 'export TRANSFORMERS_CACHE=/h/hub (or unset it).' });
    expect(byId(checks, 'HF_HOME')?.message).toBe('HF_HOME is /h but /p/config/hardware_cache.json says /p/.cache/huggingface');
    expect(byId(checks, 'HF_HUB_CACHE')?.fix).toBe('export HF_HUB_CACHE=/p/.cache/huggingface/hub (or unset it).');
    expect(byId(checks, 'TORCH_HOME')?.status).toBe('warn');
    expect(byId(checks, 'offline')?.message).toMatch(/^HF_HUB_OFFLINE=1: downloads are refused/);
    expect(doctorPassed(checks)).toBe(true);
  });

  it('TRANSFORMERS_CACHE equal to the hub cache (trailing slash aside) is fine', () => {
    expect(byId(evaluateDoctor(facts({ env: { TRANSFORMERS_CACHE: '/h/hub/' } })), 'TRANSFORMERS_CACHE')).toBeUndefined();
  });
});

describe('parseNodeVersion / parseHardwareCache', () => {
  it('parses versions', () => {
    expect(parseNodeVersion('v20.19.1')).toEqual([20, 19]);
    expect(parseNodeVersion('garbage')).toBeUndefined();
  });
  it('resolves the cache block against the project root and ignores malformed files', () => {
    const text = JSON.stringify({ cache: { base_dir: '.cache', hf_home: '.cache/huggingface', torch_home: '.cache/torch' } });
    expect(parseHardwareCache(text, '/p/config/hardware_cache.json', '/p')).toEqual({
      file: '/p/config/hardware_cache.json',
      hfHome: '/p/.cache/huggingface',
      torchHome: '/p/.cache/torch',
    });
    expect(parseHardwareCache('{oops', '/p/f', '/p')).toEqual({ file: '/p/f' });
  });
});
