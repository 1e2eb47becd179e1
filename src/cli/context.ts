/**
 * Shared CLI plumbing: settings from global flags (and the secrets they name, for the output door),
 * output mode, progress rendering, and the yes/no prompt. Only src/cli renders; library functions
 * return results and emit events. The options several commands share are declared in
 * register/options.ts (re-exported here for the registration modules).
 */
import type { Settings } from '../config/settings.js';
import type { TransferEvent } from '../download/types.js';
import { redact } from '../util/redact.js';
import type { Output } from './output.js';

export {
  addOptions,
  collect,
  GROUP_SHORTHANDS,
  groupSelection,
  groupSelectionOptions,
  networkOptions,
  outputOptions,
  parseNonEmpty,
  parsePositiveInt,
  parseRateFlag,
  parseSizeFlag,
  refuseEmptyValues,
  registryOptions,
  transferOptions,
  type GroupSelectionFlags,
} from './register/options.js';

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
  /** With --json, the `{"type":"result",…}` line, and true: the command has nothing more to print. */
  result(value: object): boolean;
  /** What a long-running library function takes: Ctrl-C's signal, and its events and warnings through this reporter. */
  hooks(signal: AbortSignal): { signal: AbortSignal; onEvent(event: TransferEvent): void; onWarning(message: string): void };
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
  const reporter: Reporter = {
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
    result(value) {
      if (mode !== 'json') return false;
      reporter.json({ type: 'result', ...value });
      return true;
    },
    hooks(signal) {
      return { signal, onEvent: (event) => reporter.onEvent(event), onWarning: (message) => reporter.warn(message) };
    },
    finish() {
      stopSpinner();
      renderer.finish();
    },
  };
  return reporter;
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
 * --quiet), so every cache command names the folder it used — written with the command's first
 * output, so an error before any (a usage or catalog error) stays the only line.
 */
export async function settingsFrom(output: Output, flags: SettingsFlags, options: { cacheNote?: boolean; announceCache?: boolean } = {}): Promise<Settings> {
  const [{ loadSettings }, { knownSecrets }] = await Promise.all([import('../config/settings.js'), import('../config/known-secrets.js')]);
  const settings = loadSettings({ cacheDir: flags.cacheDir, endpoint: flags.endpoint, torchHome: flags.torchHome });
  output.addSecrets(knownSecrets(settings, { token: flags.token, registryToken: flags.registryToken }));
  if (options.cacheNote !== false) for (const note of settings.cacheNotes) output.stderr.write(`note: ${redact(note)}\n`);
  if (options.announceCache === true && flags.json !== true && flags.quiet !== true) output.lead(`Cache: ${redact(cacheFolderLabel(settings))}`);
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
