import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../../helpers/cli.js';

const execFileAsync = promisify(execFile);
const BUILT = path.join(REPO_ROOT, 'dist', 'util', 'hash.js');

// The CLI runs the compiled worker (dist/util/hash-worker.js beside hash.js), not the TypeScript
// source the other hash tests load: this runs it the way the CLI does, in plain Node.
describe('the built hash worker', () => {
  let dir = '';
  beforeAll(() => {
    ensureBuilt();
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'util', 'hash-worker.js'))) throw new Error('dist/ predates util/hash-worker.ts: run `npm run build`');
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hashes in a worker thread from dist/ and agrees with node:crypto', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-built-'));
    const data = randomBytes(5 * 1024 * 1024 + 7);
    const file = path.join(dir, 'f');
    await writeFile(file, data);
    const script = `import { hashFile } from ${JSON.stringify(pathToFileURL(BUILT).href)};
const file = ${JSON.stringify(file)};
console.log(await hashFile(file, 'sha256', { worker: true }), await hashFile(file, 'git-sha1', { worker: true }));`;
    // A script file, not `--input-type=module -e`: a worker inherits the parent's execArgv, and
    // --input-type is refused for a file entry such as the worker's.
    const scriptFile = path.join(dir, 'run.mjs');
    await writeFile(scriptFile, script);
    const { stdout, stderr } = await execFileAsync(process.execPath, [scriptFile], { timeout: 60_000 });
    expect(stderr).toBe('');
    const gitSha1 = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
    expect(stdout.trim()).toBe(`${createHash('sha256').update(data).digest('hex')} ${gitSha1}`);
  });
});
