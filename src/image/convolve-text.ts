// `convolve:K` — a 3×3 or 5×5 kernel written inline ('1,2,1,2,4,2,1,2,1/16', '-1,0,1,-2,0,2,-1,0,1/1+128')
// or read from a file ('@edge.txt', the same text; newlines and spaces may separate the numbers).
// Grammar: coefficients separated by commas, then optionally '/D' (the divisor, default the sum of the
// coefficients, or 1 when they sum to 0) and after it optionally '+O' or '-O' (an offset added after
// dividing). All integers: the exact integer path; any fraction: the float path.
import { readFileSync } from 'node:fs';
import { expected, usage } from '../errors.js';
import { describeSystemError } from '../report/system-error.js';

export interface ConvolveKernel {
  size: 3 | 5;
  kernel: number[];
  divisor: number;
  offset: number;
  integer: boolean;
}

const PARAM = '--op convolve';
const WHAT =
  "a 3×3 or 5×5 kernel such as '1,2,1,2,4,2,1,2,1/16' (9 or 25 numbers, then optionally /DIVISOR and +OFFSET), or @FILE";
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
/** Beyond these the integer sums could overflow int32 in the native kernel (25 · 2^16 · 255 < 2^31). */
const MAX_COEFF = 2 ** 16;
const MAX_DIVISOR = 2 ** 30;

function number(text: string, what: string, whole: string): number {
  if (!NUMBER.test(text)) throw expected(PARAM, `${what} (a number)`, whole);
  const v = Number(text);
  if (!Number.isFinite(v)) throw expected(PARAM, `a finite ${what}`, whole);
  return v;
}

/** The kernel text behind `@path`, or the text itself. */
function kernelText(arg: string): string {
  if (!arg.startsWith('@')) return arg;
  const path = arg.slice(1);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw usage(`cannot read the convolve kernel file ${JSON.stringify(path)}: ${describeSystemError(e)}`);
  }
}

function divisorAndOffset(
  tail: string | undefined,
  kernel: number[],
  whole: string,
): { divisor: number; offset: number } {
  const sum = kernel.reduce((a, b) => a + b, 0);
  if (tail === undefined) return { divisor: sum === 0 ? 1 : sum, offset: 0 };
  const m = /^([-+]?[^-+]+(?:[eE][-+]?\d+)?)([-+].+)?$/.exec(tail);
  if (!m) throw expected(PARAM, WHAT, whole);
  const divisor = number(m[1]!, 'divisor after /', whole);
  if (divisor === 0 || Math.abs(divisor) > MAX_DIVISOR)
    throw expected(PARAM, `a divisor that is not 0 and at most ${MAX_DIVISOR} in size`, whole);
  const offset = m[2] === undefined ? 0 : number(m[2], 'offset after the divisor', whole);
  if (Math.abs(offset) > 65535) throw expected(PARAM, 'an offset between -65535 and 65535', whole);
  return { divisor, offset };
}

export function parseConvolve(arg: string | undefined): ConvolveKernel {
  if (arg === undefined || arg.trim() === '') throw expected(PARAM, WHAT, arg ?? '');
  const text = kernelText(arg.trim()).replace(/\s+/g, ' ').trim();
  const whole = arg.startsWith('@') ? `${arg} (${text})` : arg;
  const slash = text.indexOf('/');
  const coeffs = (slash < 0 ? text : text.slice(0, slash)).split(/\s*[, ]\s*/).filter((s) => s !== '');
  if (coeffs.length !== 9 && coeffs.length !== 25)
    throw expected(PARAM, `9 or 25 coefficients (found ${coeffs.length}): ${WHAT}`, whole);
  const kernel = coeffs.map((c) => number(c, 'coefficient', whole));
  if (kernel.some((k) => Math.abs(k) > MAX_COEFF))
    throw expected(PARAM, `coefficients of at most ${MAX_COEFF} in size`, whole);
  const { divisor, offset } = divisorAndOffset(
    slash < 0 ? undefined : text.slice(slash + 1).replace(/\s+/g, ''),
    kernel,
    whole,
  );
  const integer = kernel.every(Number.isInteger) && Number.isInteger(divisor) && Number.isInteger(offset);
  return { size: coeffs.length === 9 ? 3 : 5, kernel, divisor, offset, integer };
}
