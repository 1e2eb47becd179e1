/**
 * Shared CLI plumbing: settings from global flags, output mode, progress rendering, parsing of
 * common option values, the flags several commands share, and the yes/no prompt. Only src/cli
 * renders; library functions return results and emit events.
 */
import { Option, type Command } from 'commander';
import type { Settings } from '../config/settings.js';
import type { TransferEvent } from '../download/types.js';
import { MlcacheError, usageError } from '../errors.js';
import { parseSize } from '../util/bytes.js';
import { cutValue } from '../util/cut-value.js';
import { redact } from '../util/redact.js';
import type { Output } from './output.js';

export type OutputMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function outputMode(flags: OutputFlags, stream: { isTTY?: boolean }): OutputMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return stream.isTTY === true ? 'tty' : 'plain';
}

export interface Reporter {
  mode: OutputMode;
  onEvent(event: TransferEvent): void;
  /** A line for the person (stderr); suppressed with --quiet and --json. */
  info(line: string): void;
  /** A warning (stderr, or a JSON event with --json); shown even with --quiet. */
  warn(line: string): void;
  /** A JSON object on stdout (only with --json). */
  json(value: unknown): void;
  /**
   * A step with no byte progress yet (resolving revisions, listing files): an ora spinner on a
   * TTY until the next output, one plain line in a log, nothing with --json or --quiet.
   */
  phase(text: string): Promise<void>;
  finish(): void;
}

/**
 * A reporter whose progress display is loaded lazily (cli-progress is not needed for --help).
 * Everything it writes goes through `output` (the door). `jsonTo`: where --json lines go (stdout
 * unless stdout carries data, as `export -` does).
 */
export async function createReporter(output: Output, flags: OutputFlags, options: { jsonTo?: 'stdout' | 'stderr' } = {}): Promise<Reporter> {
  const mode = outputMode(flags, output.stderr);
  const jsonStream = options.jsonTo === 'stderr' ? output.stderr.stream : output.stdout.stream;
  const { createProgressRenderer } = await import('./ui/progress.js');
  const renderer = createProgressRenderer({
    mode,
    stream: mode === 'json' ? jsonStream : output.stderr.stream,
    verbose: flags.verbose ?? false,
  });
  let spinner: { stop(): unknown } | undefined;
  const stopSpinner = () => {
    spinner?.stop();
    spinner = undefined;
  };
  return {
    mode,
    onEvent(event) {
      stopSpinner();
      renderer.onEvent(event);
    },
    info(line) {
      stopSpinner();
      if (mode === 'tty' || mode === 'plain') renderer.log(redact(line));
    },
    async phase(text) {
      stopSpinner();
      if (mode === 'plain') renderer.log(redact(text));
      if (mode !== 'tty') return;
      const { default: ora } = await import('ora');
      spinner = ora({ text: redact(text), stream: output.stderr.stream, discardStdin: false }).start();
    },
    warn(line) {
      stopSpinner();
      if (mode === 'json') jsonStream.write(`${JSON.stringify({ type: 'warning', message: redact(line) })}\n`);
      else renderer.log(`warning: ${redact(line)}`);
    },
    json(value) {
      if (mode === 'json') jsonStream.write(`${redact(JSON.stringify(value))}\n`);
    },
    finish() {
      stopSpinner();
      renderer.finish();
    },
  };
}

/** The flags settingsFrom reads: cache locations, the endpoint, output, and the secrets the door must mask. */
export interface SettingsFlags {
  cacheDir?: string;
  endpoint?: string;
  torchHome?: string;
  json?: boolean;
  quiet?: boolean;
  token?: string;
  registryToken?: string;
}

/**
 * Lazily loaded settings from the global flags; the one path into src/config/settings.ts. The
 * secrets the settings and flags name (tokens, proxy passwords: config/known-secrets.ts) are handed
 * to the output door before anything is printed. When an explicit variable sends the hub cache away
 * from the project's (settings.cacheNotes), one `note:` line on stderr says which won and why —
 * unless `cacheNote: false` (`env`, `run` and `bootstrap` set the project's folders themselves).
 * `announceCache`: a `Cache: <folder> (<source>)` line on stderr for a person (not with --json or
 * --quiet), so every cache command names the folder it used.
 */
export async function settingsFrom(output: Output, flags: SettingsFlags, options: { cacheNote?: boolean; announceCache?: boolean } = {}): Promise<Settings> {
  const [{ loadSettings }, { knownSecrets }] = await Promise.all([import('../config/settings.js'), import('../config/known-secrets.js')]);
  const settings = loadSettings({ cacheDir: flags.cacheDir, endpoint: flags.endpoint, torchHome: flags.torchHome });
  output.addSecrets(knownSecrets(settings, { token: flags.token, registryToken: flags.registryToken }));
  if (options.cacheNote !== false) for (const note of settings.cacheNotes) output.stderr.write(`note: ${redact(note)}\n`);
  if (options.announceCache === true && flags.json !== true && flags.quiet !== true) output.stderr.write(`Cache: ${redact(cacheFolderLabel(settings))}\n`);
  return settings;
}

/**
 * How a command's human output names the cache folder it used: the path, and where it came from
 * when that is not huggingface_hub's default ("(project /p)", "(HF_HUB_CACHE)", "(--cache-dir)").
 */
export function cacheFolderLabel(settings: Pick<Settings, 'hubCache' | 'hubCacheSource' | 'project'>): string {
  const source = settings.hubCacheSource;
  if (source === 'project') return `${settings.hubCache} (project ${settings.project?.root ?? ''})`;
  if (source === 'default') return settings.hubCache;
  return `${settings.hubCache} (${source})`;
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 1024) {
      throw usageError(`${name} must be a whole number from 1 to 1024, not "${cutValue(value)}".`, `For example ${name} 8; see \`mlcache <command> --help\`.`);
    }
    return n;
  };
}

/** A size-per-second flag (`--max-rate 50MB`): a positive size, and an error that names the flag. */
/** A size flag such as `--chunk-size 16MB`: positive, with an optional unit. */
export function parseSizeFlag(name: string) {
  return (value: string): number => {
    let n: number;
    try {
      n = parseSize(value);
    } catch {
      throw new MlcacheError('INVALID_SIZE', `${name} must be a size such as 16MB, not "${cutValue(value)}".`, {
        hint: `Write a positive number with an optional unit, e.g. ${name} 16MB or 1GiB.`,
      });
    }
    if (!(n >= 1)) throw new MlcacheError('INVALID_SIZE', `${name} must be at least one byte, not "${cutValue(value)}".`, { hint: `Write e.g. ${name} 16MB.` });
    return Math.floor(n);
  };
}

export function parseRateFlag(name: string) {
  return (value: string): number => {
    let n: number;
    try {
      n = parseSize(value);
    } catch {
      throw new MlcacheError('INVALID_SIZE', `${name} must be a size per second such as 50MB, not "${cutValue(value)}".`, {
        hint: `Write a positive number with an optional unit, e.g. ${name} 50MB, 1.5GiB or 800k.`,
      });
    }
    if (!(n > 0)) {
      throw new MlcacheError('INVALID_SIZE', `${name} must be above zero, not "${cutValue(value)}".`, {
        hint: `Leave ${name} out for no cap, or write e.g. ${name} 50MB.`,
      });
    }
    return n;
  };
}

/**
 * Flags whose value is a path or a name that must not be empty: `--cache-dir ''` would otherwise
 * resolve to the current folder and write a cache into it. (Empty environment variables keep
 * huggingface_hub's meaning, "unset": src/config/settings.ts.)
 */
const NON_EMPTY_FLAGS = new Set(['--cache-dir', '--torch-home', '--catalog', '--root', '--endpoint', '--revision', '--lockfile']);

export function parseNonEmpty(name: string, previous?: (value: string, previous: unknown) => unknown) {
  return (value: string, prior: unknown): unknown => {
    if (value.trim() === '') {
      throw usageError(`${name} is empty.`, `Give ${name} a value, or leave the flag out to use the default.`);
    }
    return previous ? previous(value, prior) : value;
  };
}

/** Give every path-like option of `command` (see NON_EMPTY_FLAGS) a parser that refuses an empty value. */
export function refuseEmptyValues(command: Command): Command {
  for (const option of command.options) {
    if (option.long === undefined || !NON_EMPTY_FLAGS.has(option.long)) continue;
    const inner = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
    option.argParser(parseNonEmpty(option.long, inner));
  }
  return command;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Options shared by every command that talks to the Hub. */
export function networkOptions(): Option[] {
  return [
    new Option('--cache-dir <dir>', 'hub cache directory (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)'),
    new Option('--token <token>', 'Hub token (default: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, or the token file)'),
    new Option('--endpoint <url>', 'Hub endpoint (default: HF_ENDPOINT or https://huggingface.co)'),
  ];
}

/** Registry access: a bearer token and hosts allowed over plain HTTP (loopback always is). */
export function registryOptions(): Option[] {
  return [
    new Option('--registry-token <token>', 'registry bearer token (default: MLCACHE_REGISTRY_TOKEN, then docker/podman auth files)'),
    new Option('--insecure-registry <host>', 'allow plain HTTP to this registry host[:port] (repeatable; loopback always is)').argParser(collect),
  ];
}

export function transferOptions(): Option[] {
  return [
    new Option('--connections <n>', 'global connection budget').argParser(parsePositiveInt('--connections')).default(16),
    new Option('--max-rate <rate>', 'global bandwidth cap, e.g. 50MB (per second)').argParser(parseRateFlag('--max-rate')),
    new Option('--stall-timeout <seconds>', 'retry a connection that received nothing for this long').argParser(parsePositiveInt('--stall-timeout')).default(30),
  ];
}

export function outputOptions(): Option[] {
  return [
    new Option('--json', 'one JSON event per line on stdout (NDJSON)'),
    new Option('-q, --quiet', 'no progress output'),
    new Option('-v, --verbose', 'show retries and error causes'),
  ];
}

export function addOptions<T extends { addOption(o: Option): T }>(command: T, options: Option[]): T {
  for (const o of options) command.addOption(o);
  return command;
}

/** Flags that name a catalog group on their own (`--nllb` is `--group nllb`). */
export const GROUP_SHORTHANDS = ['indictrans2', 'nllb', 'whisperx', 'mlx'] as const;

export interface GroupSelectionFlags {
  all?: boolean;
  indictrans2?: boolean;
  nllb?: boolean;
  whisperx?: boolean;
  mlx?: boolean;
  group?: string[];
  model?: string[];
}

/**
 * The model-selection flags of cache-models, offline-check and bootstrap: --all, the group
 * shorthands, --group and (unless `model: false`) --model. `all` overrides --all's help text.
 */
export function groupSelectionOptions(options: { all?: string; model?: boolean } = {}): Option[] {
  const list = [
    new Option('--all', options.all ?? 'every group that applies to this machine'),
    new Option('--indictrans2', 'the indictrans2 group (same as --group indictrans2)'),
    new Option('--nllb', 'the nllb group'),
    new Option('--whisperx', 'the whisperx group'),
    new Option('--mlx', 'the mlx group (Apple Silicon only)'),
    new Option('--group <name>', 'a catalog group (repeatable)').argParser(collect),
  ];
  if (options.model !== false) list.push(new Option('--model <repo[@rev]>', 'a repo, or a comma list of them (repeatable)').argParser(collect));
  return list;
}

/** The parsed selection flags as the commands take them: shorthand groups first, then --group. */
export function groupSelection(flags: GroupSelectionFlags): { groups: string[]; all: boolean | undefined; models: string[] | undefined } {
  return {
    groups: [...GROUP_SHORTHANDS.filter((name) => flags[name] === true), ...(flags.group ?? [])],
    all: flags.all,
    models: flags.model,
  };
}

/** A yes/no question through @inquirer/confirm (drawn through the door), loaded only when asked; the default answer is no. */
export function confirmOnTerminal(output: Output): (question: string) => Promise<boolean> {
  return async (question) => {
    const { default: confirm } = await import('@inquirer/confirm');
    return confirm({ message: question, default: false }, { output: output.stdout.stream });
  };
}

/** Whether a person is there to answer: no --json, not CI, and a terminal on both stdin and stdout. */
export function canAsk(flags: { json?: boolean }, settings: Pick<Settings, 'ci'>, output?: Output): boolean {
  return flags.json !== true && !settings.ci && process.stdin.isTTY === true && output?.stdout.isTTY === true;
}

/** `confirm` for a command that asks before it deletes: undefined (never ask) when no one can answer. */
export function confirmIfInteractive(output: Output, flags: { json?: boolean }, settings: Pick<Settings, 'ci'>): ((question: string) => Promise<boolean>) | undefined {
  return canAsk(flags, settings, output) ? confirmOnTerminal(output) : undefined;
}
