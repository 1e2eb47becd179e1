/**
 * The failures of one snapshot run: every one counted, the first `max` kept (a run where a million
 * files fail — a full disk, a revoked token — must not hold a million records). Pure.
 */
export interface FileFailure {
  path: string;
  code: string;
  message: string;
  hint?: string | undefined;
}

export interface FailureLog {
  add(failure: FileFailure): void;
  readonly count: number;
  /** The records kept, sorted by path. */
  records(): FileFailure[];
}

export function createFailureLog(max: number): FailureLog {
  const kept: FileFailure[] = [];
  let count = 0;
  return {
    add(failure) {
      count++;
      if (kept.length < max) kept.push(failure);
    },
    get count() {
      return count;
    },
    records: () => [...kept].sort((a, b) => a.path.localeCompare(b.path)),
  };
}
