/**
 * The one output door: every byte the CLI writes to stdout or stderr — human text, JSON and NDJSON
 * events, progress lines and the TTY bars, prompts, commander's help and usage errors, failures and
 * their `--verbose` causes — is written through the `Output` main.ts creates, which masks secrets
 * (util/redact.ts::redactSecrets) on the way out. The secrets are explicit: main.ts and
 * context.ts::settingsFrom pass those the settings name (config/known-secrets.ts); secrets learned
 * while running (registry tokens) come from util/redact.ts::registerSecret. Nothing else in src/cli
 * may touch process.stdout / process.stderr (eslint). The one exception is data, not text: the
 * bundle `mlcache export … -` streams to stdout (commands/export.ts).
 *
 * Text writes (`write`) are redacted a line at a time: complete lines leave at once; a partial line
 * waits until the end of the current turn of the event loop (setImmediate) or the next write, so a
 * secret split across the writes of one turn is caught whole. A trailing piece that could begin a
 * known secret is held back until more text or the final `drain()`, so a known secret split across
 * writes of different turns is caught too. (Pattern-only values — an unknown `hf_…` token, a
 * `Bearer` value — split across turns by a partial write are not; mlcache writes each of its lines
 * in one call.) Renderers (the `stream` view: bars, spinner, prompts) draw each frame in one write,
 * which is redacted whole and written at once: they cannot wait for a newline.
 */
import { learnedSecretList, redactSecrets, secretSpellings } from '../util/redact.js';

export interface OutputWriter {
  /** Write text (redacted). */
  write(text: string): void;
  /**
   * The underlying stream as renderers that take a stream (cli-progress, ora, readline, the
   * confirm prompt) see it: every property of the real stream, with `write` redacting each chunk
   * and writing it at once (after any text still pending), so a renderer's frame stays whole.
   */
  readonly stream: NodeJS.WriteStream;
  readonly isTTY: boolean;
  /** Send what is held back (a partial line) now. */
  flush(): void;
}

export interface Output {
  readonly stdout: OutputWriter;
  readonly stderr: OutputWriter;
  /** Mask these from now on (values shorter than 4 characters are ignored: they would mask ordinary text). */
  addSecrets(secrets: Iterable<string | undefined>): void;
  /** `text` as the door would write it. */
  redact(text: string): string;
  /**
   * A line that leads the command's output on stderr (the `Cache:` line): written just before the
   * first other byte on stdout or stderr, and never when nothing else comes — `dropLead()` (a
   * failure before any output) leaves a usage or catalog error as the only line.
   */
  lead(line: string): void;
  dropLead(): void;
  /** Everything held back written, and handed to the OS. */
  drain(): Promise<void>;
}

export interface CreateOutputOptions {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  secrets?: Iterable<string | undefined>;
}

type WriteCallback = (error?: Error | null) => void;

export function createOutput(options: CreateOutputOptions): Output {
  const secrets = new Set<string>();
  const addSecrets = (list: Iterable<string | undefined>) => {
    for (const secret of list) for (const form of secretSpellings(secret)) secrets.add(form);
  };
  addSecrets(options.secrets ?? []);
  const allSecrets = () => [...secrets, ...learnedSecretList()];
  const redact = (text: string) => redactSecrets(text, secrets);
  let lead: string | undefined;
  const writeLead = () => {
    if (lead === undefined) return;
    const line = lead;
    lead = undefined;
    stderr.write(line);
  };
  const stdout = createWriter(options.stdout, redact, allSecrets, writeLead);
  const stderr = createWriter(options.stderr, redact, allSecrets, writeLead);
  return {
    stdout,
    stderr,
    addSecrets,
    redact,
    lead(line) {
      lead = line.endsWith('\n') ? line : `${line}\n`;
    },
    dropLead() {
      lead = undefined;
    },
    async drain() {
      await Promise.all([stdout, stderr].map((w) => w.drain()));
    },
  };
}

interface Writer extends OutputWriter {
  drain(): Promise<void>;
}

function createWriter(target: NodeJS.WriteStream, redact: (text: string) => string, secrets: () => string[], before: () => void): Writer {
  let pending = '';
  let scheduled: NodeJS.Immediate | undefined;
  const emit = (text: string, callback?: WriteCallback) => {
    if (text !== '') target.write(redact(text));
    if (callback) target.write('', callback);
  };
  /** Write out the complete lines of `pending` (all of it with `all`), keeping what may start a secret. */
  const release = (all: boolean) => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const end = pending.lastIndexOf('\n') + 1;
    let cut = all ? pending.length : end;
    if (!all && end < pending.length) {
      cut = pending.length - heldBack(pending.slice(end), secrets());
    }
    const out = pending.slice(0, cut);
    pending = pending.slice(cut);
    emit(out);
  };
  const schedule = () => {
    if (pending !== '' && scheduled === undefined && !target.destroyed) {
      scheduled = setImmediate(() => {
        scheduled = undefined;
        release(false);
        // Still held (a possible secret's beginning): it leaves with the next write or at drain().
      });
      scheduled.unref();
    }
  };
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    before();
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const end = pending.lastIndexOf('\n') + 1;
    if (end > 0) {
      const lines = pending.slice(0, end);
      pending = pending.slice(end);
      emit(lines);
    }
    schedule();
    if (done) target.write('', done);
    return true;
  };
  /**
   * A renderer's write (a TTY frame, a spinner, a prompt): what text writes left pending goes first,
   * then this chunk, redacted, at once — renderers draw a frame or a line in one call, and some
   * (ora) tell their own writes from others' by writing synchronously.
   */
  const streamWrite = (chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    before();
    release(true);
    const text = redact(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return done ? target.write(text, done) : target.write(text);
  };
  // A renderer that hooks `write` (ora does, to keep its spinner below other output) hooks this
  // view only: the real stream keeps its own write, so the door's writes cannot loop through it.
  let hooked: unknown;
  const stream = new Proxy(target, {
    get(t, property) {
      if (property === 'write') return hooked ?? streamWrite;
      const value: unknown = Reflect.get(t, property, t);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
    set(t, property, value: unknown) {
      if (property !== 'write') return Reflect.set(t, property, value, t);
      hooked = value === streamWrite ? undefined : value;
      return true;
    },
  });
  return {
    write: (text) => {
      write(text);
    },
    stream,
    get isTTY() {
      return target.isTTY === true;
    },
    flush: () => release(true),
    drain() {
      release(true);
      return new Promise((resolve) => {
        if (target.destroyed || !target.writable) return resolve();
        target.write('', () => resolve());
      });
    },
  };
}

/** How many characters at the end of `tail` could be the beginning of one of `secrets` (the longest such piece). */
export function heldBack(tail: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, tail.length); k > longest; k--) {
      if (tail.endsWith(secret.slice(0, k))) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}
