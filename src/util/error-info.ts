/**
 * The plain, JSON-ready summary of a failure that results and reports carry (a failed file in a
 * snapshot, a failed catalog entry, a bootstrap step): `code`, `message` and, when there is one,
 * `hint`. An MlcacheError gives its own three; anything else is `INTERNAL` with its message — the
 * stack and the cause chain stay out (they are for `--verbose`, which renders the error itself).
 */
import { isMlcacheError } from '../errors.js';

export interface ErrorInfo {
  code: string;
  message: string;
  /** Absent (not undefined-valued) when the error has none. */
  hint?: string | undefined;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (isMlcacheError(error)) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
