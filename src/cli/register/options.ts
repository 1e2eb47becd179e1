/**
 * The options several commands share, each declared once with one help text (cache locations, the
 * catalog, the lock file, the Hub, the registry, transfers, output, the model selection), the
 * parsers of their values, and the one way a command prints its result: one JSON line with
 * --json, the human text otherwise, both through the output door. Nothing heavy is imported
 * here, so registration stays cheap for `mlcache --help`.
 */
import { Option, type Command } from 'commander';
import { MlcacheError, usageError } from '../../errors.js';
import { parseSize } from '../../util/bytes.js';
import { cutValue } from '../../util/cut-value.js';
import { redact } from '../../util/redact.js';
import type { Output } from '../output.js';

export const cacheDirOption = (): Option => new Option('--cache-dir <dir>', 'hub cache directory (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)');

export const torchHomeOption = (): Option => new Option('--torch-home <dir>', 'TORCH_HOME, for URL artifacts (default: TORCH_HOME, ~/.cache/torch)');

export const catalogOption = (): Option => new Option('--catalog <file>', 'a user catalog merged over the shipped one (default: MLCACHE_CATALOG)');

export const tokenOption = (): Option => new Option('--token <token>', 'Hub token (default: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, or the token file)');

export const endpointOption = (): Option => new Option('--endpoint <url>', 'Hub endpoint (default: HF_ENDPOINT or https://huggingface.co)');

export const lockfileOption = (): Option => new Option('--lockfile <path>', 'the lock file (default: mlcache.lock beside config/models.json)');

/** --json, for every command that has it: a command without progress prints just its result line. */
export const jsonOption = (): Option => new Option('--json', 'JSON on stdout, one object per line (NDJSON), the last one the result');

/** --cache-dir, --torch-home and --catalog, the cache locations of a catalog-aware command. */
export const cacheLocationOptions = (): Option[] => [cacheDirOption(), torchHomeOption(), catalogOption()];

/**
 * A command's result: with --json one `{"type":"result",…}` line on stdout (control characters
 * neutralized, as every JSON line is), else `human()` as it is. Both leave through the door.
 */
export function printResult(output: Output, flags: { json?: boolean }, result: object, human: () => string): void {
  if (flags.json === true) output.stdout.write(`${redact(JSON.stringify({ type: 'result', ...result }))}\n`);
  else output.stdout.write(human());
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

/** How a size flag reads and what it refuses (the messages name the flag). */
interface SizeFlagKind {
  example: string;
  examples: string;
  /** The smallest value allowed is at least 1 (a size) or above 0 (a rate). */
  atLeastOne: boolean;
  tooSmall: string;
  tooSmallHint: string;
}

function sizeFlagParser(name: string, kind: SizeFlagKind) {
  return (value: string): number => {
    let n: number;
    try {
      n = parseSize(value);
    } catch {
      throw new MlcacheError('INVALID_SIZE', `${name} must be ${kind.example}, not "${cutValue(value)}".`, {
        hint: `Write a positive number with an optional unit, e.g. ${kind.examples}.`,
      });
    }
    if (kind.atLeastOne ? !(n >= 1) : !(n > 0)) throw new MlcacheError('INVALID_SIZE', `${name} must be ${kind.tooSmall}, not "${cutValue(value)}".`, { hint: kind.tooSmallHint });
    return kind.atLeastOne ? Math.floor(n) : n;
  };
}

/** A size flag such as `--chunk-size 16MB`: at least one byte, with an optional unit. */
export function parseSizeFlag(name: string) {
  return sizeFlagParser(name, { example: 'a size such as 16MB', examples: `${name} 16MB or 1GiB`, atLeastOne: true, tooSmall: 'at least one byte', tooSmallHint: `Write e.g. ${name} 16MB.` });
}

/** A size-per-second flag (`--max-rate 50MB`): above zero, with an optional unit. */
export function parseRateFlag(name: string) {
  return sizeFlagParser(name, {
    example: 'a size per second such as 50MB',
    examples: `${name} 50MB, 1.5GiB or 800k`,
    atLeastOne: false,
    tooSmall: 'above zero',
    tooSmallHint: `Leave ${name} out for no cap, or write e.g. ${name} 50MB.`,
  });
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
    cacheDirOption(),
    tokenOption(),
    endpointOption(),
  ];
}

/** Registry access: a bearer token and hosts allowed over plain HTTP (loopback always is). */
export function registryOptions(): Option[] {
  return [
    new Option('--registry-token <token>', 'registry bearer token (default: MLCACHE_REGISTRY_TOKEN, then docker/podman auth files)'),
    new Option('--insecure-registry <host>', 'allow plain HTTP to this registry host[:port] (repeatable; loopback always is)').argParser(collect),
  ];
}

/** What transferOptions() parse. */
export interface TransferFlags {
  connections: number;
  stallTimeout: number;
  maxRate?: number;
}

/** The transfer flags as the library functions take them (download, pull, cache-models). */
export function transferSettings(flags: TransferFlags): { connections: number; maxRate: number | undefined; tuning: { engine: { stallTimeoutMs: number } } } {
  return { connections: flags.connections, maxRate: flags.maxRate, tuning: { engine: { stallTimeoutMs: flags.stallTimeout * 1000 } } };
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
    jsonOption(),
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
