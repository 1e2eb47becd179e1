/**
 * The file listing's pagination guards, with a fake transport: `fetchPage` is a plain function
 * serving pages from a table, and records every URL it was asked for.
 */
import { describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import type { HubResponse } from '../../../src/hub/hub-response.js';
import { listFiles } from '../../../src/hub/list-files.js';
import { apiTreeUrl } from '../../../src/hub/urls.js';

const ENDPOINT = 'https://hub.test';
const repo = { id: 'org/m', type: 'model' as const };
const COMMIT = 'a'.repeat(40);
const FIRST = apiTreeUrl(ENDPOINT, repo, COMMIT);
const OID = 'b'.repeat(40);

const file = (path: string, size = 1) => ({ type: 'file', path, size, oid: OID });
const page = (url: string, entries: unknown[], next?: string): HubResponse => ({
  url,
  status: 200,
  headers: next === undefined ? {} : { link: `<${next}>; rel="next"` },
  body: JSON.stringify(entries),
});

/** A transport serving `pages` by URL (an unknown URL is a test bug), remembering what was asked. */
function fakeTransport(pages: Record<string, HubResponse> | ((url: string, n: number) => HubResponse)) {
  const asked: string[] = [];
  const fetchPage = (url: string): Promise<HubResponse> => {
    asked.push(url);
    if (asked.length > 1000) throw new Error('the listing did not stop');
    const answer = typeof pages === 'function' ? pages(url, asked.length) : pages[url];
    if (answer === undefined) throw new Error(`no page at ${url}`);
    return Promise.resolve(answer);
  };
  return { asked, fetchPage };
}

async function protocolFailure(promise: Promise<unknown>): Promise<MlcacheError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlcacheError);
  expect((error as MlcacheError).code).toBe('PROTOCOL');
  return error as MlcacheError;
}

describe('listFiles pagination', () => {
  it('follows rel="next" across pages and lists the files of every page, skipping folders', async () => {
    const second = `${ENDPOINT}/api/models/org/m/tree/${COMMIT}?cursor=2`;
    const { asked, fetchPage } = fakeTransport({
      [FIRST]: page(FIRST, [{ type: 'directory', path: 'sub' }, file('a.txt', 3)], second),
      [second]: page(second, [{ ...file('sub/b.bin', 9), lfs: { oid: 'c'.repeat(64), size: 9 } }]),
    });
    const files = await listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage });
    expect(files.map((f) => [f.path, f.size, f.lfs?.oid])).toEqual([
      ['a.txt', 3, undefined],
      ['sub/b.bin', 9, 'c'.repeat(64)],
    ]);
    expect(asked).toEqual([FIRST, second]);
  });

  it('refuses a Link loop (a next page already read)', async () => {
    const second = `${ENDPOINT}/api/x?cursor=2`;
    const { asked, fetchPage } = fakeTransport({
      [FIRST]: page(FIRST, [file('a')], second),
      [second]: page(second, [file('b')], FIRST),
    });
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toMatch(/loops: page .* was already read/);
    expect(asked).toEqual([FIRST, second]);
  });

  it('refuses a listing that starts over under new cursors (a path named twice)', async () => {
    // Every page has a fresh URL, but page 2 repeats page 1: only the path check stops it.
    const { asked, fetchPage } = fakeTransport((url, n) => page(url, [file('a'), file('b')], `${ENDPOINT}/api/x?cursor=${n + 1}`));
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toContain('names "a" twice (page 2)');
    expect(error.hint).toMatch(/^Nothing was written/);
    expect(asked).toHaveLength(2);
  });

  it('stops after maxPages distinct pages', async () => {
    const { asked, fetchPage } = fakeTransport((url, n) => page(url, [file(`f${n}`)], `${ENDPOINT}/api/x?cursor=${n + 1}`));
    await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage, maxPages: 5 }));
    expect(asked).toHaveLength(5);
  });

  it('refuses an empty page that still points to a next page', async () => {
    const { asked, fetchPage } = fakeTransport((url, n) => page(url, [], `${ENDPOINT}/api/x?cursor=${n + 1}`));
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toContain('empty page 1');
    expect(asked).toHaveLength(1);
  });

  it.each([
    ['another host', 'https://evil.test/api/x?cursor=2'],
    ['another port', 'https://hub.test:8443/api/x?cursor=2'],
    ['another scheme', 'http://hub.test/api/x?cursor=2'],
  ])('never asks for a next page on %s (the token goes with every page)', async (_what, next) => {
    const { asked, fetchPage } = fakeTransport({ [FIRST]: page(FIRST, [file('a')], next) });
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toContain('another origin');
    expect(asked).toEqual([FIRST]);
  });

  it('refuses an invalid file entry, naming it', async () => {
    const { fetchPage } = fakeTransport({ [FIRST]: page(FIRST, [{ type: 'file', path: 'bad', size: -1, oid: OID }]) });
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toContain('invalid file entry in model org/m (bad: size');
  });

  it('refuses a page that is not JSON', async () => {
    const { fetchPage } = fakeTransport({ [FIRST]: { url: FIRST, status: 200, headers: {}, body: '<html>' } });
    const error = await protocolFailure(listFiles({ endpoint: ENDPOINT, repo, commit: COMMIT, fetchPage }));
    expect(error.message).toContain('not JSON');
  });
});
