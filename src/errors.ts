// One error type for everything the user can cause or see: a message (one line) and an exit code.
// Messages come from one builder so they all read alike: what was wrong, the value, what was expected.
import { redact } from './redact.js';

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  partial: 3,
  locked: 75,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Errors that steer control flow carry a code, and callers test the code, never the message (which is
 * for people and may be reworded):
 * - FileChanged: the input file is not the one the run was planned for (this host's view of it is wrong)
 * - ManifestUnreachable: the manifest (a directory, a database) cannot be used at all
 */
export type ErrorCode = 'FileChanged' | 'ManifestUnreachable';

export class BigprocError extends Error {
  readonly exitCode: ExitCode;
  readonly code: ErrorCode | undefined;
  constructor(message: string, exitCode: ExitCode = EXIT.usage, code?: ErrorCode) {
    super(message);
    this.name = 'BigprocError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Whether `e` is a BigprocError with this code. */
export function hasCode(e: unknown, code: ErrorCode): e is BigprocError {
  return e instanceof BigprocError && e.code === code;
}

/** Render a received value the way messages show it: strings quoted, everything else as JSON; long ones clipped. */
export function show(value: unknown): string {
  return clipLongValues(render(value));
}

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A value echoed in a message keeps this many characters; a 5 MB --where must not fill the terminal. */
const KEEP = 100;
/**
 * Values longer than KEEP (100): JSON-quoted strings, single-quoted ones (as commander quotes them;
 * not an apostrophe inside a word), and bare runs without spaces.
 */
const LONG_VALUE = /"(?:[^"\\\n]|\\.){101,}"|(?<!\w)'[^'\n]{101,}'|[^\s"']{101,}/g;
/** A message as a whole: long values made of many short words are cut here. */
const MAX_MESSAGE = 2000;

/** Cut one long value to its first characters, an ellipsis and its length. */
function clipValue(token: string): string {
  const q = token[0] === '"' || token[0] === "'" ? token[0] : '';
  const body = q ? token.slice(1, -1) : token;
  let length = body.length;
  if (q === '"') {
    try {
      length = (JSON.parse(token) as string).length;
    } catch {
      // not a JSON string after all: count what is there
    }
  }
  // KEEP characters with the ellipsis, so a clipped value is never long enough to be clipped again
  return `${q}${body.slice(0, KEEP - 1)}…${q} (${length} characters)`;
}

/**
 * Text with every value longer than KEEP characters clipped (see clipValue), and the whole cut at
 * MAX_MESSAGE: what the user gave is echoed so they can recognise it, not reproduced in full.
 */
export function clipLongValues(text: string): string {
  const out = text.replace(LONG_VALUE, clipValue);
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}… (${out.length} characters)` : out;
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

/** The line an error is printed as: credentials masked, long values clipped, one line. */
export function errorLine(message: string): string {
  return `bigproc: ${clipLongValues(redact(message)).replace(/\s*\n\s*/g, ' ')}\n`;
}
