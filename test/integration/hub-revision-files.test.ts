/** HubClient.revisionFiles (`mlcache outdated`): one `revision?blobs=true` call, against a hand-made server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createHubClient } from '../../src/hub/index.js';
import { mlcacheRejectionFrom } from '../helpers/errors.js';

const COMMIT = 'c'.repeat(40);
let server: http.Server;
let endpoint: string;
const seen: string[] = [];
const dispatcher = new Agent();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const body =
      req.url === '/api/models/org/full/revision/main?blobs=true'
        ? { sha: COMMIT, siblings: [{ rfilename: 'config.json', size: 7, blobId: 'a'.repeat(40) }, { rfilename: 'model.bin', size: 9, blobId: 'b'.repeat(40), lfs: { sha256: 'd'.repeat(64), size: 9, pointerSize: 130 } }] }
        : req.url === '/api/models/org/bare/revision/main?blobs=true'
          ? { sha: COMMIT, siblings: [{ rfilename: 'config.json' }] }
          : { sha: 'not a commit' };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await dispatcher.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('revisionFiles', () => {
  it('maps siblings with blob facts to files; without them, files is undefined; a bad sha is PROTOCOL', async () => {
    const hub = createHubClient({ endpoint, dispatcher, maxRetries: 0 });
    expect(await hub.revisionFiles({ id: 'org/full', type: 'model' }, 'main')).toEqual({
      commit: COMMIT,
      files: [
        { path: 'config.json', size: 7, oid: 'a'.repeat(40) },
        { path: 'model.bin', size: 9, oid: 'b'.repeat(40), lfs: { oid: 'd'.repeat(64), size: 9 } },
      ],
    });
    expect(await hub.revisionFiles({ id: 'org/bare', type: 'model' }, 'main')).toEqual({ commit: COMMIT, files: undefined });
    const bad = await mlcacheRejectionFrom(hub.revisionFiles({ id: 'org/bad', type: 'model' }, 'main'));
    expect(bad.code).toBe('PROTOCOL');
    expect(seen).toEqual(['/api/models/org/full/revision/main?blobs=true', '/api/models/org/bare/revision/main?blobs=true', '/api/models/org/bad/revision/main?blobs=true']);
  });
});
