// One error type for everything the user can cause or see: a message (one line) and an exit code.
// Messages come from one builder so they all read alike: what was wrong, the value, what was expected.

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  partial: 3,
  locked: 75,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class BigprocError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.usage) {
    super(message);
    this.name = 'BigprocError';
    this.exitCode = exitCode;
  }
}

/** Render a received value the way messages show it: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `Expected <what> for <param> but received <value>` — the usage error every validator throws. */
export function expected(param: string, what: string, received: unknown): BigprocError {
  return new BigprocError(`Expected ${what} for ${param} but received ${show(received)}`, EXIT.usage);
}

export function usage(message: string): BigprocError {
  return new BigprocError(message, EXIT.usage);
}

export function runtime(message: string): BigprocError {
  return new BigprocError(message, EXIT.runtime);
}
