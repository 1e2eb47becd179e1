/**
 * Bad input is refused at the boundary, by the real CLI: each case below gives its exit code, one
 * `error:` line that names the flag or the source of the bad value (and a `hint:`), no stack
 * trace, nothing written to the cache folder or the current folder, and no request sent to the
 * Hub emulator. A token is never echoed, on stderr or in --json output.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const hub = useEmulator({ repos: [{ id: 'acme/tiny', revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{}\n' }] }] }] });

const SECRET = 'hf_SECRETsecret123';
const LONG = 'a'.repeat(300);

let dir: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-bad-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => hub().resetStats());

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Files to create in the case's home before the run (path relative to home → content). */
  files?: Record<string, string>;
  exit: number;
  error: RegExp;
}

interface Outcome {
  c: Case;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  home: string;
  cwd: string;
  cache: string;
}

let counter = 0;
async function runCase(c: Case): Promise<Outcome> {
  const root = path.join(dir, `case-${counter++}`);
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'cwd');
  const cache = path.join(root, 'hub');
  await mkdir(home, { recursive: true });
  await mkdir(cwd, { recursive: true });
  await writeFile(path.join(root, 'a-file'), 'not a folder\n');
  for (const [rel, content] of Object.entries(c.files ?? {})) {
    await mkdir(path.dirname(path.join(home, rel)), { recursive: true });
    await writeFile(path.join(home, rel), content);
  }
  const args = c.args.map((a) => a.replace('$FILE', path.join(root, 'a-file')));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HF_HUB_CACHE: cache,
    HF_ENDPOINT: hub().url,
    NO_COLOR: '1',
    ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, v.replace('$FILE', path.join(root, 'a-file'))])),
  };
  const result = await runCli(args, { env, cwd });
  return { c, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, home, cwd, cache };
}

/** All cases, a few at a time (each is a Node start-up), then the checks, each naming its case. */
async function runAll(cases: readonly Case[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < cases.length) out.push(await runCase(cases[next++]!));
    }),
  );
  return out;
}

async function expectRefused(o: Outcome): Promise<void> {
  const label = `${o.c.name}: ${o.stderr}`;
  expect(o.exitCode, label).toBe(o.c.exit);
  const lines = o.stderr.split('\n');
  const errors = lines.filter((l) => l.startsWith('error: '));
  expect(errors, label).toHaveLength(1);
  expect(errors[0], label).toMatch(o.c.error);
  expect(errors[0]!.length, label).toBeLessThan(240);
  expect(lines.filter((l) => l.startsWith('hint: ')), label).toHaveLength(1);
  expect(o.stderr, label).not.toMatch(/^\s+at /m);
  expect(o.stderr, label).not.toMatch(/internal error|bug in mlcache/i);
  expect(`${o.stdout}\n${o.stderr}`, label).not.toContain('SECRET');
  // Nothing written: no cache folder, nothing in the current folder.
  expect(existsSync(o.cache), label).toBe(false);
  expect(await readdir(o.cwd), label).toEqual([]);
}

const tokenFile = '.cache/huggingface/token';

const TOKEN_CASES: Case[] = [
  { name: '--token with a newline', args: ['download', 'acme/tiny', '--token', `${SECRET}\nX-Injected: 1`], exit: 2, error: /^error: --token contains a newline or other control character; /u },
  { name: '--token with a space', args: ['download', 'acme/tiny', '--token', `${SECRET} x`], exit: 2, error: /^error: --token contains a space or other whitespace; / },
  { name: '--token non-ASCII', args: ['download', 'acme/tiny', '--token', `${SECRET}é`], exit: 2, error: /^error: --token contains a character that is not ASCII; / },
  { name: 'HF_TOKEN with a trailing newline', args: ['download', 'acme/tiny'], env: { HF_TOKEN: `${SECRET}\n` }, exit: 2, error: /^error: HF_TOKEN contains a newline or other control character; / },
  { name: 'HF_TOKEN with ESC', args: ['download', 'acme/tiny', '--dry-run'], env: { HF_TOKEN: `${SECRET}\u001b[2J` }, exit: 2, error: /^error: HF_TOKEN contains a newline or other control character; / },
  { name: 'HUGGING_FACE_HUB_TOKEN with a tab', args: ['download', 'acme/tiny'], env: { HUGGING_FACE_HUB_TOKEN: `\t${SECRET}` }, exit: 2, error: /^error: HUGGING_FACE_HUB_TOKEN contains a newline or other control character; / },
  { name: 'token file with two lines', args: ['download', 'acme/tiny'], files: { [tokenFile]: `${SECRET}\nsecond\n` }, exit: 2, error: /^error: The token file .*\/\.cache\/huggingface\/token contains a newline or other control character; / },
  { name: 'cache-models with a bad HF_TOKEN', args: ['cache-models', '--model', 'acme/tiny', '--yes'], env: { HF_TOKEN: `${SECRET}\r\n` }, exit: 2, error: /^error: HF_TOKEN contains a newline/ },
  { name: '--token with a C1 control character', args: ['download', 'acme/tiny', '--revision', 'main', '--token', `${SECRET}\u0085`], exit: 2, error: /^error: --token contains a newline or other control character; / },
];

const EMPTY_CASES: Case[] = [
  ...['download acme/tiny', 'cache-models --model acme/tiny', 'status', 'verify', 'prune', 'rm acme/tiny', 'offline-check --all', 'doctor'].map(
    (cmd): Case => ({ name: `${cmd} --cache-dir ''`, args: [...cmd.split(' '), '--cache-dir', ''], exit: 2, error: /^error: --cache-dir is empty\.$/ }),
  ),
  ...['cache-models --all', 'status', 'verify', 'offline-check --all', 'doctor'].map(
    (cmd): Case => ({ name: `${cmd} --torch-home ''`, args: [...cmd.split(' '), '--torch-home', ''], exit: 2, error: /^error: --torch-home is empty\.$/ }),
  ),
  ...['cache-models --all', 'status', 'verify', 'prune', 'offline-check --all', 'bootstrap --skip-cache'].map(
    (cmd): Case => ({ name: `${cmd} --catalog ''`, args: [...cmd.split(' '), '--catalog', ''], exit: 2, error: /^error: --catalog is empty\.$/ }),
  ),
  ...['bootstrap --skip-cache', 'env', 'run true'].map((cmd): Case => ({ name: `${cmd} --root ' '`, args: [cmd.split(' ')[0]!, '--root', ' ', ...cmd.split(' ').slice(1)], exit: 2, error: /^error: --root is empty\.$/ })),
  { name: "download --endpoint ''", args: ['download', 'acme/tiny', '--endpoint', ''], exit: 2, error: /^error: --endpoint is empty\.$/ },
  { name: "download --revision ''", args: ['download', 'acme/tiny', '--revision', ''], exit: 2, error: /^error: --revision is empty\.$/ },
];

const NUMBER_CASES: Case[] = [
  ...['fast', '-5MB', '1e3', '5 MB/h'].map((v): Case => ({ name: `--max-rate ${v}`, args: ['download', 'acme/tiny', '--max-rate', v], exit: 2, error: new RegExp(`^error: --max-rate must be a size per second such as 50MB, not "${v.replace('/', '\\/')}"\\.$`) })),
  ...['0', '0MB', '0.0001'].map((v): Case => ({ name: `--max-rate ${v}`, args: ['cache-models', '--model', 'acme/tiny', '--max-rate', v], exit: 2, error: new RegExp(`^error: --max-rate must be above zero, not "${v}"\\.$`) })),
  ...['abc', '0', '-1', '2.5', '5000', ''].map((v): Case => ({ name: `--connections '${v}'`, args: ['download', 'acme/tiny', '--connections', v], exit: 2, error: new RegExp(`^error: --connections must be a whole number from 1 to 1024, not "${v}"\\.$`) })),
  ...['x', '0'].map((v): Case => ({ name: `--stall-timeout ${v}`, args: ['cache-models', '--all', '--stall-timeout', v], exit: 2, error: new RegExp(`^error: --stall-timeout must be a whole number from 1 to 1024, not "${v}"\\.$`) })),
  { name: '--jobs many', args: ['verify', '--jobs', 'many'], exit: 2, error: /^error: --jobs must be a whole number from 1 to 1024, not "many"\.$/ },
  { name: '--max-rate with a 300-character value is cut', args: ['download', 'acme/tiny', '--max-rate', LONG], exit: 2, error: /^error: --max-rate must be a size per second such as 50MB, not "a{79}…"\.$/ },
];

const FILE_CACHE = /^error: The hub cache .*a-file \(from (--cache-dir|HF_HUB_CACHE)\) is a regular file, not a directory\.$/;
const FILE_CASES: Case[] = [
  ...['download acme/tiny', 'download acme/tiny --dry-run', 'cache-models --model acme/tiny --yes', 'cache-models --model acme/tiny --dry-run', 'status', 'verify', 'prune', 'rm acme/tiny', 'offline-check --all'].map(
    (cmd): Case => ({ name: `${cmd} --cache-dir <file>`, args: [...cmd.split(' '), '--cache-dir', '$FILE'], exit: 2, error: FILE_CACHE }),
  ),
  { name: 'status with HF_HUB_CACHE=<file>', args: ['status'], env: { HF_HUB_CACHE: '$FILE' }, exit: 2, error: FILE_CACHE },
  { name: 'download with HF_HUB_CACHE=<file>/sub', args: ['download', 'acme/tiny'], env: { HF_HUB_CACHE: '$FILE/sub' }, exit: 2, error: /^error: The hub cache .*a-file\/sub \(from HF_HUB_CACHE\) is below .*a-file, which is a regular file, not a directory\.$/ },
];

const ECHO_CASES: Case[] = [
  { name: 'a 300-character repo name', args: ['download', `org/${LONG}`], exit: 2, error: /^error: Invalid repo id 'org\/a{75}…': the name is longer than 96 characters\.$/ },
  { name: 'a 300-character repo spec in status --model', args: ['status', '--model', `org/${LONG}`], exit: 2, error: /^error: Invalid repo id 'org\/a{75}…': / },
  { name: 'a 300-character group', args: ['cache-models', '--group', LONG], exit: 2, error: /^error: Unknown model group 'a{79}…'\.$/ },
];

describe('bad input at the boundary', () => {
  for (const [title, cases] of [
    ['tokens: visible ASCII only, refused naming the source, never echoed', TOKEN_CASES],
    ['empty path and value flags', EMPTY_CASES],
    ['size, rate and number flags name themselves', NUMBER_CASES],
    ['a hub cache path that is a regular file', FILE_CASES],
    ['long values are echoed once, cut to a readable length', ECHO_CASES],
  ] as const) {
    it(title, async () => {
      const outcomes = await runAll(cases);
      for (const o of outcomes) await expectRefused(o);
      expect(hub().stats.requests.map((r) => r.url)).toEqual([]);
    }, 120_000); // up to 30 Node start-ups, six at a time
  }

  it('--json: the token refusal is one JSON error on stdout without the token', async () => {
    const [o] = await runAll([{ name: 'json', args: ['download', 'acme/tiny', '--json', '--token', `${SECRET}\n`], exit: 2, error: /--token/ }]);
    expect(o!.exitCode).toBe(2);
    const events = o!.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string; message?: string });
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'USAGE', message: expect.stringMatching(/^--token contains a newline/) });
    expect(o!.stdout + o!.stderr).not.toContain('SECRET');
    expect(hub().stats.requests).toEqual([]);
  });

  it('a 300-character repo id: the whole error is short and names the id once', async () => {
    const [o] = await runAll([{ name: 'long id', args: ['download', `org/${LONG}`], exit: 2, error: /Invalid repo id/ }]);
    expect(o!.stderr.length).toBeLessThan(400);
    expect(o!.stderr.match(/org\/a{20}/g)).toHaveLength(1);
    const [j] = await runAll([{ name: 'long id json', args: ['download', `org/${LONG}`, '--json'], exit: 2, error: /Invalid repo id/ }]);
    expect(j!.stdout.length).toBeLessThan(500);
  });

  it('doctor reports a cache path that is a file as a failing check (exit 1), not a pass', async () => {
    const [o] = await runAll([{ name: 'doctor', args: ['doctor', '--cache-dir', '$FILE'], exit: 1, error: /x/ }]);
    expect(o!.exitCode, o!.stderr).toBe(1);
    expect(`${o!.stdout}${o!.stderr}`).toMatch(/^fail\s+hub cache is not writable: .*a-file \(it is a regular file, not a directory\)$/m);
    expect(await readFile(path.join(path.dirname(o!.home), 'a-file'), 'utf8')).toBe('not a folder\n');
  });

  it('doctor reports a malformed HF_TOKEN as a failing check naming the variable, and never sends or shows it', async () => {
    const [o] = await runAll([{ name: 'doctor token', args: ['doctor', '--json'], env: { HF_TOKEN: `${SECRET}\n` }, exit: 1, error: /x/ }]);
    expect(o!.exitCode, o!.stderr).toBe(1);
    expect(o!.stdout).toMatch(/"id":"token","status":"fail","message":"HF_TOKEN contains a newline or other control character; /);
    expect(o!.stdout + o!.stderr).not.toContain('SECRET');
    expect(hub().stats.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
  });

  it('empty environment variables keep huggingface_hub\'s meaning: unset', async () => {
    const [o] = await runAll([{ name: 'empty env', args: ['download', 'acme/tiny', '--dry-run'], env: { HF_TOKEN: '', HF_ENDPOINT: hub().url, HF_HOME: '' }, exit: 0, error: /x/ }]);
    expect(o!.exitCode, o!.stderr).toBe(0);
    expect(o!.stdout).toContain('config.json');
  });
});
