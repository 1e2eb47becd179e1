/**
 * The one exit point. Parses the command line, runs one command, renders its failure, and sets
 * the exit code. Command modules are imported lazily so `mlcache --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, isMlcacheError, MlcacheError } from '../errors.js';
import { redact } from '../util/redact.js';
import { createOutput, type Output } from './output.js';
import { registerCommands } from './register/index.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<void> {
  // The one output door: everything below writes through it (src/cli/output.ts).
  const output = createOutput({ stdout: process.stdout, stderr: process.stderr });
  // `mlcache … | head`: the reader went away. Stop quietly, as other command-line tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
      throw error;
    });
  }
  let reported = false;
  const interrupt = createInterruptController(process, {
    // The command did not unwind in time after the first signal: say what happened, then leave.
    onDeadline: (reason) => {
      if (!reported) {
        reported = true;
        reportFailure(reason, argv, output);
        output.stderr.flush();
      }
    },
    onSecondSignal: () => {
      output.stderr.write('\nInterrupted again; exiting now.\n');
      output.stderr.flush();
    },
  });
  const program = new Command('mlcache')
    .description("Prepare this machine's ML model caches so pipelines run fast and offline.")
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.stdout.write(s),
      writeErr: (s) => output.stderr.write(s),
    });
  // `mlcache run` relays signals to its child, which decides how to end (and may take its time to
  // save a checkpoint): mlcache must then outlive the first signal, not enforce a deadline.
  program.hook('preAction', (_program, action) => {
    if (action.name() === 'run') interrupt.relayOnly();
  });
  let commandExitCode: number | undefined;
  // The secrets are known before anything is printed, even a usage error that echoes a value.
  output.addSecrets(await startupSecrets(argv));
  registerCommands(program, {
    output,
    signal: interrupt.signal,
    setExitCode: (c) => {
      commandExitCode = c;
    },
  });
  let code: number = EXIT.OK;
  try {
    await program.parseAsync(argv);
    code = commandExitCode ?? EXIT.OK;
  } catch (error) {
    if (!reported) {
      reported = true;
      code = reportFailure(error, argv, output);
    }
  }
  if (interrupt.signal.aborted && code === EXIT.OK && commandExitCode === undefined) code = EXIT.INTERRUPTED;
  // 130 for SIGINT, 143 for SIGTERM: 128 + the signal number, what shells, `timeout`, CI runners
  // and `docker stop` expect from a process that stopped because of that signal.
  if (code === EXIT.INTERRUPTED) code = interrupt.exitCode();
  process.exitCode = code;
  interrupt.finish(code);
  // Done: leave once the output is out. After a first HTTP request, undici's WebAssembly HTTP
  // parser (llhttp) is re-compiled by V8's optimizing tier in the background, and Node waits for
  // that before it exits: 0.2–0.5 s added to every networked command, even one that did its work in
  // milliseconds (a warm `cache-models --frozen`, a second `pull`). Everything a command starts is
  // awaited before it returns, so nothing is cut short here.
  await output.drain();
  process.exit(code);
}

/**
 * The secrets the environment and the command line name (config/known-secrets.ts), for the door
 * before commander parses anything: the values of --token / --registry-token are taken from argv
 * as written (`--token X` or `--token=X`). settingsFrom adds the same from the parsed flags.
 */
async function startupSecrets(argv: string[]): Promise<string[]> {
  const [{ loadSettings }, { knownSecrets }] = await Promise.all([import('../config/settings.js'), import('../config/known-secrets.js')]);
  const flag = (name: string): string[] =>
    argv.flatMap((arg, i) => (arg === name ? [argv[i + 1] ?? ''] : arg.startsWith(`${name}=`) ? [arg.slice(name.length + 1)] : []));
  const flagged = [...flag('--token'), ...flag('--registry-token')];
  try {
    return [...knownSecrets(loadSettings({ project: false })), ...flagged];
  } catch {
    return flagged; // settingsFrom reports a setting that cannot be read, with its hint
  }
}

/** Print a failure the way its kind deserves (through the door) and return the exit code. */
export function reportFailure(error: unknown, argv: string[], output: Output): number {
  // A failure before the command wrote anything is the only line: no `Cache:` line above it.
  output.dropLead();
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  if (error instanceof CommanderError) {
    // Commander already printed its message for help/version (code 0) and usage errors.
    if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return EXIT.OK;
    }
    if (json) writeJsonError(output.stdout, 'USAGE', error.message.replace(/^error: /, ''), 'Run `mlcache --help` for usage.');
    output.stderr.write('Run `mlcache --help` for usage.\n');
    return EXIT.USAGE;
  }
  if (isMlcacheError(error)) {
    const message = redact(error.message);
    const hint = error.hint ? redact(error.hint) : undefined;
    output.stderr.write(`error: ${message}\n`);
    if (hint) output.stderr.write(`hint: ${hint}\n`);
    if (verbose) {
      let cause: unknown = error.cause;
      while (cause) {
        const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : typeof cause === 'string' ? cause : JSON.stringify(cause);
        output.stderr.write(`  caused by: ${redact(text)}\n`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    }
    if (json) writeJsonError(jsonWriter(argv, output), error.code, message, hint, error.details);
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.stderr.write(`internal error: ${redact(stack)}\n`);
  output.stderr.write('This is a bug in mlcache. Please report it with the command you ran and the text above.\n');
  if (json) writeJsonError(jsonWriter(argv, output), 'INTERNAL', redact(error instanceof Error ? error.message : String(error)), undefined, undefined);
  return EXIT.INTERNAL;
}

/** `mlcache export … -` writes the bundle to stdout: its JSON lines (and errors) go to stderr. */
function jsonWriter(argv: string[], output: Output): Output['stdout'] {
  const args = argv.slice(2);
  return args[0] === 'export' && args.includes('-') ? output.stderr : output.stdout;
}

function writeJsonError(to: Output['stdout'], code: string, message: string, hint: string | undefined, details?: Record<string, unknown>): void {
  to.write(`${redact(JSON.stringify({ type: 'error', code, message, hint, details }))}\n`);
}

/** How long the command has, after the first SIGINT/SIGTERM, to stop, save its journals and unwind. */
const INTERRUPT_DEADLINE_MS = 1500;
/** After the command has unwound, how long stdout/stderr get to drain if something still holds the event loop. */
const DRAIN_MS = 100;

interface InterruptController {
  signal: AbortSignal;
  /** 130 (SIGINT) or 143 (SIGTERM): the exit code for the signal received first. */
  exitCode(): number;
  /** The command has finished with `code`: stop listening; if interrupted, make sure the process ends. */
  finish(code: number): void;
  /** The command hands signals to a child process: no deadline, no exit on a second signal. */
  relayOnly(): void;
}

/** 128 + the signal's number, the conventional status of a process stopped by a signal. */
function signalExitCode(name: NodeJS.Signals): number {
  return name === 'SIGTERM' ? EXIT.TERMINATED : EXIT.INTERRUPTED;
}

/**
 * Ctrl-C and SIGTERM handling. The first SIGINT/SIGTERM aborts the running command's signal: every
 * wait (a Hub request, a retry pause, a lock, a transfer) rejects with the typed INTERRUPTED reason,
 * journals are saved, and the command unwinds. Whatever it was doing, the process then ends within
 * INTERRUPT_DEADLINE_MS: should anything still hold the event loop (a socket undici keeps, a stuck
 * close), the deadline prints the interruption and exits, as a second signal does at once. The
 * cache never depends on a clean unwind (atomic renames, journals written whole), so leaving early
 * is as safe as a kill.
 */
function createInterruptController(proc: NodeJS.Process, options: { onDeadline(reason: unknown): void; onSecondSignal(): void }): InterruptController {
  const controller = new AbortController();
  let first: NodeJS.Signals | undefined;
  let relay = false;
  let deadline: NodeJS.Timeout | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (relay) return;
    if (first !== undefined) {
      options.onSecondSignal();
      proc.exit(signalExitCode(name));
    }
    first = name;
    // The reason is what any aborted await rethrows (signal.reason), so make it the typed error the
    // user should read, wherever the command happened to be (planning, waiting, transferring).
    controller.abort(
      new MlcacheError('INTERRUPTED', `Interrupted (${name}); what finished so far is kept.`, {
        hint: 'Run the same command again to resume where it stopped.',
      }),
    );
    deadline = setTimeout(() => {
      options.onDeadline(controller.signal.reason);
      proc.exit(signalExitCode(name));
    }, INTERRUPT_DEADLINE_MS).unref();
  };
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    exitCode: () => (first === undefined ? EXIT.INTERRUPTED : signalExitCode(first)),
    relayOnly() {
      relay = true;
    },
    finish(code) {
      clearTimeout(deadline);
      if (first === undefined || relay) {
        proc.off('SIGINT', onSignal);
        proc.off('SIGTERM', onSignal);
        return;
      }
      // Interrupted and unwound: nothing left is worth waiting for (a pooled socket, a timer).
      setTimeout(() => proc.exit(code), DRAIN_MS).unref();
    },
  };
}
