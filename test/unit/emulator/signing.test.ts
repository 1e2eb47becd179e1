import { describe, expect, it } from 'vitest';
import { amzDate, signCdnPath, verifyCdnUrl } from '../../../src/emulator/signing.js';

const secret = Buffer.alloc(32, 7);
const now = new Date(Date.UTC(2026, 10, 22, 19, 47, 0, 500));

describe('signed CDN URLs', () => {
  it('formats X-Amz-Date in ISO basic format', () => {
    expect(amzDate(now)).toBe('20261122T194700Z');
  });

  it('accepts a fresh URL and rejects expired, tampered or foreign ones', () => {
    const q = new URLSearchParams(signCdnPath(secret, '/repos/ab/cd/x', 60, now));
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(verifyCdnUrl(secret, '/repos/ab/cd/x', q, now.getTime())).toEqual({ ok: true });
    expect(verifyCdnUrl(secret, '/repos/ab/cd/x', q, now.getTime() + 59_000)).toEqual({ ok: true });
    expect(verifyCdnUrl(secret, '/repos/ab/cd/x', q, Date.UTC(2026, 10, 22, 19, 48, 0))).toMatchObject({ ok: false, message: 'Request has expired' });
    expect(verifyCdnUrl(secret, '/repos/ab/cd/y', q, now.getTime())).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifyCdnUrl(Buffer.alloc(32, 8), '/repos/ab/cd/x', q, now.getTime())).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const longer = new URLSearchParams(q);
    longer.set('X-Amz-Expires', '6000');
    expect(verifyCdnUrl(secret, '/repos/ab/cd/x', longer, now.getTime())).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const unsigned = new URLSearchParams(q);
    unsigned.delete('X-Amz-Signature');
    expect(verifyCdnUrl(secret, '/repos/ab/cd/x', unsigned, now.getTime())).toMatchObject({ ok: false, code: 'AccessDenied' });
  });

  it('treats a TTL of 0 as already expired', () => {
    const q = new URLSearchParams(signCdnPath(secret, '/p', 0, now));
    expect(verifyCdnUrl(secret, '/p', q, now.getTime())).toMatchObject({ ok: false, message: 'Request has expired' });
  });
});
