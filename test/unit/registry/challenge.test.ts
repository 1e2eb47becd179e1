import { describe, expect, it } from 'vitest';
import { parseChallenges, pickChallenge } from '../../../src/registry/challenge.js';

describe('parseChallenges', () => {
  it('reads a distribution Bearer challenge', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' } },
    ]);
  });

  it('keeps commas and escaped quotes inside quoted values, and spaces around "="', () => {
    const [c] = parseChallenges('Bearer realm = "https://t/x?a=1,b=2" , scope="repository:a:pull,push repository:b:pull", error="say \\"no\\""');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://t/x?a=1,b=2', scope: 'repository:a:pull,push repository:b:pull', error: 'say "no"' } });
  });

  it('reads several challenges in one header and in several headers, case-insensitively', () => {
    const list = parseChallenges(['Basic realm="Registry Realm", BEARER Realm=https://t/token,Service=reg', 'Negotiate abc==']);
    expect(list).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg' } },
      { scheme: 'negotiate', params: { token68: 'abc==' } },
    ]);
    expect(pickChallenge(list)?.scheme).toBe('bearer');
  });

  it('survives garbage without looping', () => {
    expect(parseChallenges('=,,"unterminated')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(pickChallenge(parseChallenges('Digest realm="x"'))).toBeUndefined();
  });
});
