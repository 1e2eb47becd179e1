/**
 * The emulator's "lying CDN" knobs (`wrong-length`, `wrong-total`, `wrong-content-range`) really
 * put those answers on the wire: raw node:http requests, so no client library normalises anything.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { padByte } from '../../src/emulator/content.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';

const BIG = 200_003;
const SMALL_TEXT = 'a regular, non-LFS file\n'.repeat(50);

const hub = useEmulator(() => ({
  repos: [
    {
      id: 'org/lie',
      revisions: [{ refs: ['main'], files: [{ path: 'weights.bin', generated: { size: BIG, seed: 5 } }, { path: 'notes.txt', content: SMALL_TEXT }] }],
    },
  ],
}));

afterEach(() => {
  hub().setFaults({});
  hub().resetStats();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One GET/HEAD with node:http (no redirects followed, the body read to its end). */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function cdnUrl(): Promise<string> {
  const res = await raw(`${hub().url}/org/lie/resolve/main/weights.bin`, {}, 'HEAD');
  expect(res.status).toBe(302);
  return String(res.headers.location);
}

function padding(from: number, to: number): Buffer {
  return Buffer.from(Array.from({ length: to - from }, (_, i) => padByte(from + i)));
}

describe('wrong-length: a 200 whole body of another size, honest Content-Length', () => {
  it('+1000: the real bytes then 1000 deterministic extra bytes, also when a Range was asked for', async () => {
    const h = hub();
    const content = await h.contentOf('org/lie', 'weights.bin');
    const location = await cdnUrl();
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'wrong-length', delta: 1000 }, times: 2 }] });
    const whole = await raw(location);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-length']).toBe(String(BIG + 1000));
    expect(whole.headers['content-range']).toBeUndefined();
    expect(whole.body.length).toBe(BIG + 1000);
    expect(whole.body.subarray(0, BIG).equals(content)).toBe(true);
    expect(whole.body.subarray(BIG).equals(padding(BIG, BIG + 1000))).toBe(true);

    const ranged = await raw(location, { range: 'bytes=100-199' });
    expect(ranged.status).toBe(200);
    expect(ranged.headers['content-range']).toBeUndefined();
    expect(ranged.body.length).toBe(BIG + 1000);
    expect(ranged.body.equals(whole.body)).toBe(true);
    // The rule is used up: the next answer is honest again.
    const honest = await raw(location, { range: 'bytes=100-199' });
    expect(honest.status).toBe(206);
    expect(honest.body.equals(content.subarray(100, 200))).toBe(true);
  });

  it('-1000: the file truncated, with a Content-Length that says so', async () => {
    const h = hub();
    const content = await h.contentOf('org/lie', 'weights.bin');
    const location = await cdnUrl();
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'wrong-length', delta: -1000 } }] });
    const res = await raw(location, { range: 'bytes=0-' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(BIG - 1000));
    expect(res.body.equals(content.subarray(0, BIG - 1000))).toBe(true);
    expect(h.stats.bytesServed).toBe(BIG - 1000);
  });

  it('applies to regular files the Hub serves itself, with their etag and X-Repo-Commit', async () => {
    const h = hub();
    const digest = await h.digestOf('org/lie', 'notes.txt');
    h.setFaults({ rules: [{ match: { origin: 'hub', path: 'notes.txt' }, action: { kind: 'wrong-length', delta: 7 } }] });
    const res = await raw(`${h.url}/org/lie/resolve/main/notes.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe(`"${digest.gitSha1}"`);
    expect(res.headers['x-repo-commit']).toBe(h.commitOf('org/lie', 'main'));
    expect(res.headers['content-length']).toBe(String(SMALL_TEXT.length + 7));
    expect(res.body.length).toBe(SMALL_TEXT.length + 7);
    expect(res.body.subarray(0, SMALL_TEXT.length).toString()).toBe(SMALL_TEXT);
  });

  it('leaves the Hub\'s announced size alone (X-Linked-Size is the contract the CDN breaks)', async () => {
    const h = hub();
    h.setFaults({ rules: [{ action: { kind: 'wrong-length', delta: 1000 } }] });
    const res = await raw(`${h.url}/org/lie/resolve/main/weights.bin`, {}, 'HEAD');
    expect(res.headers['x-linked-size']).toBe(String(BIG));
  });
});

describe('wrong-total: Range honoured against an object of another size', () => {
  it('+1000: a 206 with the requested real bytes whose Content-Range total is size + 1000', async () => {
    const h = hub();
    const content = await h.contentOf('org/lie', 'weights.bin');
    const location = await cdnUrl();
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'wrong-total', delta: 1000 } }] });
    const res = await raw(location, { range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 10-19/${BIG + 1000}`);
    expect(res.headers['content-length']).toBe('10');
    expect(res.body.equals(content.subarray(10, 20))).toBe(true);
    // An open range runs to the end of the longer object.
    const tail = await raw(location, { range: `bytes=${BIG - 10}-` });
    expect(tail.headers['content-range']).toBe(`bytes ${BIG - 10}-${BIG + 999}/${BIG + 1000}`);
    expect(tail.body.length).toBe(1010);
    expect(tail.body.subarray(10).equals(padding(BIG, BIG + 1000))).toBe(true);
  });

  it('-1000: a range to the real end comes back short, and one past the new end gets 416', async () => {
    const h = hub();
    const content = await h.contentOf('org/lie', 'weights.bin');
    const location = await cdnUrl();
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'wrong-total', delta: -1000 } }] });
    const res = await raw(location, { range: `bytes=${BIG - 2000}-${BIG - 1}` });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${BIG - 2000}-${BIG - 1001}/${BIG - 1000}`);
    expect(res.headers['content-length']).toBe('1000');
    expect(res.body.equals(content.subarray(BIG - 2000, BIG - 1000))).toBe(true);
    const past = await raw(location, { range: `bytes=${BIG - 500}-${BIG - 1}` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${BIG - 1000}`);
    const whole = await raw(location);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(BIG - 1000);
  });

  it('combines with wrong-content-range (start shifted, total wrong)', async () => {
    const h = hub();
    const location = await cdnUrl();
    h.setFaults({
      rules: [
        { match: { origin: 'cdn' }, action: { kind: 'wrong-total', delta: 1000 } },
        { match: { origin: 'cdn' }, action: { kind: 'wrong-content-range', shift: 3 } },
      ],
    });
    const res = await raw(location, { range: 'bytes=10-19' });
    expect(res.headers['content-range']).toBe(`bytes 13-22/${BIG + 1000}`);
  });
});
