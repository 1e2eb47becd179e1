/**
 * The one exit point. Parses the command line, runs one command, renders its failure, and sets
 * the exit code. Command modules are imported lazily so `mlcache --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, isMlcacheError, MlcacheError } from '../errors.js';
import { redact } from '../util/redact.js';
import { registerCommands } from './commands/index.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<void> {
  // `mlcache … | head`: the reader went away. Stop quietly, as other command-line tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
      throw error;
    });
  }
  const interrupt = createInterruptController(process);
  const program = new Command('mlcache')
    .description("Prepare this machine's ML model caches so pipelines run fast and offline.")
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  let commandExitCode: number | undefined;
  registerCommands(program, {
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
    code = reportFailure(error, argv);
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal.aborted && code === EXIT.OK && commandExitCode === undefined) code = EXIT.INTERRUPTED;
  process.exitCode = code;
}

/** Print a failure the way its kind deserves and return the exit code. */
export function reportFailure(error: unknown, argv: string[]): number {
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  if (error instanceof CommanderError) {
    // Commander already printed its message for help/version (code 0) and usage errors.
    if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return EXIT.OK;
    }
    if (json) writeJsonError('USAGE', error.message.replace(/^error: /, ''), 'Run `mlcache --help` for usage.');
    process.stderr.write('Run `mlcache --help` for usage.\n');
    return EXIT.USAGE;
  }
  if (isMlcacheError(error)) {
    const message = redact(error.message);
    const hint = error.hint ? redact(error.hint) : undefined;
    process.stderr.write(`error: ${message}\n`);
    if (hint) process.stderr.write(`hint: ${hint}\n`);
    if (verbose) {
      let cause: unknown = error.cause;
      while (cause) {
        const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : typeof cause === 'string' ? cause : JSON.stringify(cause);
        process.stderr.write(`  caused by: ${redact(text)}\n`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    }
    if (json) writeJsonError(error.code, message, hint, error.details);
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`internal error: ${redact(stack)}\n`);
  process.stderr.write('This is a bug in mlcache. Please report it with the command you ran and the text above.\n');
  if (json) writeJsonError('INTERNAL', redact(error instanceof Error ? error.message : String(error)), undefined);
  return EXIT.INTERNAL;
}

function writeJsonError(code: string, message: string, hint: string | undefined, details?: Record<string, unknown>): void {
  process.stdout.write(`${redact(JSON.stringify({ type: 'error', code, message, hint, details }))}\n`);
}

/**
 * Ctrl-C handling: the first SIGINT/SIGTERM aborts the running command (which stops within a
 * second and leaves a resumable state); a second one exits at once with 130.
 */
function createInterruptController(proc: NodeJS.Process): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      proc.stderr.write('\nInterrupted again; exiting now.\n');
      proc.exit(EXIT.INTERRUPTED);
    }
    // The reason is what any aborted await rethrows (signal.reason), so make it the typed error the
    // user should read, wherever the command happened to be (planning, waiting, transferring).
    controller.abort(
      new MlcacheError('INTERRUPTED', `Interrupted (${name}); what finished so far is kept.`, {
        hint: 'Run the same command again to resume where it stopped.',
      }),
    );
  };
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      proc.off('SIGINT', onSignal);
      proc.off('SIGTERM', onSignal);
    },
  };
}
