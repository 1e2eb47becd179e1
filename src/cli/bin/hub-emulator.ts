/**
 * `npm run hub`: run the Hub emulator in the foreground for manual testing and demos.
 *
 *   node dist/cli/bin/hub-emulator.js --port 8080 --cdn-port 8081 [--repos FILE.json] [--page-size N]
 *     [--latency MS] [--per-connection-rate 40MB] [--aggregate-rate 100MB] [--cdn-ttl SEC]
 *     [--token T]... [--any-token] [--host H] [--log] [--synthetic [TYPE:]ORG/NAME:FILES]...
 *
 * Prints the hub and CDN URLs and the repos it serves, then runs until SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createHubEmulator, DEFAULT_TOKEN, demoRepos, type FixtureRepo, type HubEmulator, type HubEmulatorOptions } from '../../emulator/index.js';
import { formatBytes, parseSize } from '../../util/bytes.js';

const USAGE = `Usage: node dist/cli/bin/hub-emulator.js [options]

  --port N                 hub port (default 8080; 0 = any free port)
  --cdn-port N             CDN port (default 8081; 0 = any free port)
  --host H                 interface to bind (default 127.0.0.1)
  --repos FILE.json        fixture repos (a JSON array of FixtureRepo, or {"repos": [...]});
                           default: the demo repo mlcache-demo/tiny-model
  --page-size N            tree API page size (default 1000, like the Hub)
  --latency MS             latency added before every response
  --per-connection-rate R  bandwidth cap per connection, e.g. 40MB (per second)
  --aggregate-rate R       bandwidth cap over all connections, e.g. 100MB
  --cdn-ttl SEC            lifetime of signed CDN URLs (default 3600)
  --token T                accept this token (repeatable; the default token stays valid)
  --any-token              accept any bearer token (e.g. your real HF_TOKEN)
  --synthetic [TYPE:]ID:N  also serve a repo of N tiny generated files (data/00000/000000.txt …),
                           listed and served without materialising them; TYPE is dataset
                           (default), model or space (repeatable), e.g. --synthetic org/huge:1000000
  --log                    print one line per request
  -h, --help               show this help
`;

const FixtureFileSchema = z.object({
  path: z.string().min(1),
  content: z.string().optional(),
  generated: z.object({ size: z.number().int().nonnegative(), seed: z.number().int().optional() }).optional(),
  lfs: z.boolean().optional(),
});

const FixtureRepoSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['model', 'dataset', 'space']).optional(),
  revisions: z
    .array(
      z.object({
        commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
        refs: z.array(z.string()),
        files: z.array(FixtureFileSchema),
        synthetic: z.object({ files: z.number().int().nonnegative(), size: z.number().int().positive().optional(), prefix: z.string().min(1).optional() }).optional(),
      }),
    )
    .min(1),
  gated: z.union([z.literal(false), z.literal('auto'), z.literal('manual')]).optional(),
  private: z.boolean().optional(),
  disabled: z.boolean().optional(),
  accessTokens: z.array(z.string()).optional(),
});

const ReposFileSchema = z.union([z.array(FixtureRepoSchema), z.object({ repos: z.array(FixtureRepoSchema) })]);

export async function loadRepos(file: string): Promise<FixtureRepo[]> {
  const parsed = ReposFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new Error(`${file} is not a valid repos file:\n${issues}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.repos;
}

function intOption(value: string | undefined, name: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a non-negative integer, got "${value}".`);
  return n;
}

/** `--synthetic [TYPE:]ORG/NAME:FILES` → a fixture repo of FILES synthetic files on `main`. */
export function parseSyntheticFlag(value: string): FixtureRepo {
  const match = /^(?:(model|dataset|space):)?([^:\s]+):(\d+)$/.exec(value);
  const files = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isSafeInteger(files)) throw new Error(`--synthetic expects [TYPE:]ORG/NAME:FILES (e.g. org/huge:1000000), got "${value}".`);
  return { id: match[2]!, type: (match[1] as FixtureRepo['type']) ?? 'dataset', revisions: [{ refs: ['main'], files: [], synthetic: { files } }] };
}

function fileSize(file: FixtureRepo['revisions'][number]['files'][number]): number {
  if (file.generated) return file.generated.size;
  const c = file.content ?? '';
  return typeof c === 'string' ? Buffer.byteLength(c) : c.length;
}

/** What the launcher prints: URLs, token, repos with refs → commits, and how to point clients at it. */
export function describeEmulator(emulator: HubEmulator, repos: FixtureRepo[], tokens: string[]): string {
  const lines = ['mlcache Hub emulator', `  hub:   ${emulator.url}`, `  cdn:   ${emulator.cdnUrl}`, `  token: ${tokens.join(', ')}`, '', 'Repos:'];
  for (const repo of repos) {
    const type = repo.type ?? 'model';
    const flags = [repo.private && 'private', repo.gated && `gated:${repo.gated}`, repo.disabled && 'disabled'].filter(Boolean).join(', ');
    lines.push(`  ${type} ${repo.id}${flags ? ` (${flags})` : ''}`);
    for (const rev of repo.revisions) {
      const refs = rev.refs.length > 0 ? rev.refs.join(', ') : '(no ref)';
      const total = rev.files.reduce((n, f) => n + fileSize(f), 0);
      const commit = rev.refs[0] ? emulator.commitOf(repo.id, rev.refs[0], type) : (rev.commit ?? '?');
      const synthetic = rev.synthetic ? ` + ${rev.synthetic.files} synthetic under ${rev.synthetic.prefix ?? 'data'}/` : '';
      lines.push(`    ${refs.padEnd(12)} ${commit}  ${rev.files.length} files${synthetic}, ${formatBytes(total)}`);
      for (const f of rev.files) lines.push(`      ${f.path}  ${formatBytes(fileSize(f))}${(f.lfs ?? (f.generated !== undefined || fileSize(f) >= 10_000_000)) ? '  (LFS)' : ''}`);
    }
  }
  const first = repos[0];
  if (first) {
    lines.push('', 'Try:');
    const typeFlag = first.type && first.type !== 'model' ? ` --repo-type ${first.type}` : '';
    lines.push(`  mlcache download ${first.id}${typeFlag} --endpoint ${emulator.url} --cache-dir ./.emulator-cache`);
    lines.push(`  HF_ENDPOINT=${emulator.url} hf download ${first.id}${first.type && first.type !== 'model' ? ` --repo-type ${first.type}` : ''}`);
  }
  lines.push('', 'Press Ctrl-C to stop.');
  return lines.join('\n');
}

export async function runHubEmulator(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'cdn-port': { type: 'string' },
      host: { type: 'string' },
      repos: { type: 'string' },
      'page-size': { type: 'string' },
      latency: { type: 'string' },
      'per-connection-rate': { type: 'string' },
      'aggregate-rate': { type: 'string' },
      'cdn-ttl': { type: 'string' },
      token: { type: 'string', multiple: true },
      'any-token': { type: 'boolean' },
      log: { type: 'boolean' },
      synthetic: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const repos = [...(values.repos ? await loadRepos(values.repos) : demoRepos()), ...(values.synthetic ?? []).map(parseSyntheticFlag)];
  const tokens = [DEFAULT_TOKEN, ...(values.token ?? [])];
  const options: HubEmulatorOptions = {
    repos,
    tokens,
    acceptAnyToken: values['any-token'] ?? false,
    host: values.host ?? '127.0.0.1',
    port: intOption(values.port, 'port', 8080),
    cdnPort: intOption(values['cdn-port'], 'cdn-port', 8081),
    pageSize: intOption(values['page-size'], 'page-size', undefined),
    faults: {
      latencyMs: intOption(values.latency, 'latency', undefined),
      perConnectionBytesPerSec: values['per-connection-rate'] ? parseSize(values['per-connection-rate']) : undefined,
      aggregateBytesPerSec: values['aggregate-rate'] ? parseSize(values['aggregate-rate']) : undefined,
      cdnUrlTtlSec: intOption(values['cdn-ttl'], 'cdn-ttl', undefined),
    },
    onRequest: values.log
      ? (r) => process.stdout.write(`${r.origin.padEnd(3)} ${r.method.padEnd(4)} ${r.status} ${formatBytes(r.bytesSent).padStart(8)}  ${r.url}\n`)
      : undefined,
  };
  const emulator = await createHubEmulator(options);
  process.stdout.write(`${describeEmulator(emulator, repos, values['any-token'] ? ['(any)'] : tokens)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`\nReceived ${signal}; stopping.\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void emulator.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runHubEmulator(process.argv.slice(2)).catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`hub-emulator: ${message}\n`);
    if (code === 'EADDRINUSE') process.stderr.write('hint: the port is taken; pass --port 0 --cdn-port 0 for free ports.\n');
    else if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) process.stderr.write(USAGE);
    process.exitCode = 2;
  });
}
