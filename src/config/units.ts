// Parsing of human sizes ("64MiB", "1.5GB") and durations ("30s", "250ms") used by many flags.
import { expected } from '../errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/** Parse a byte size. Binary units (KiB, MiB, GiB; K, M, G) are powers of 1024, KB/MB/GB powers of ten. */
export function parseSize(text: string | number, param: string): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw expected(param, 'a size such as 64MiB, 1GB or 4096', text);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw expected(param, 'a size such as 64MiB, 1GB or 4096 (units B, KiB, MiB, GiB, KB, MB, GB)', text);
  const value = wholeBytes(m[1]!, unit);
  if (value === null)
    throw expected(param, 'a whole number of bytes (e.g. 1.5KiB is 1536 bytes; 1.3KiB is not whole)', text);
  if (!Number.isSafeInteger(value)) throw expected(param, 'a size below 8 PiB', text);
  return value;
}

/**
 * `digits` (e.g. "1.5") times `unit`, computed exactly (1.1 * 1000 is 1100.0000000000002 in floating
 * point); null when the product is not a whole number of bytes, rather than rounding it silently.
 */
function wholeBytes(digits: string, unit: number): number | null {
  const [int, frac = ''] = digits.split('.');
  const scaled = BigInt(int! + frac) * BigInt(unit);
  const divisor = 10n ** BigInt(frac.length);
  return scaled % divisor === 0n ? Number(scaled / divisor) : null;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a duration into milliseconds; a bare number means seconds. */
export function parseDuration(text: string, param: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw expected(param, 'a duration such as 30s, 500ms, 5m or 1h', text);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!);
}

/**
 * --lease: from 100 ms (a shorter lease expires between two heartbeats of a busy host) to 24 h (timers
 * in Node cannot wait longer than ~24.8 days, and a lease that long would leave a dead host's shards
 * unclaimed for as long).
 */
export function parseLease(text: string): number {
  const ms = parseDuration(text, '--lease');
  if (ms < 100 || ms > 24 * 3_600_000) throw expected('--lease', 'a duration from 100ms to 24h', text);
  return ms;
}

/** Parse a strictly positive integer option (workers, bins, records…). */
export function parsePositiveInt(text: string | number, param: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof text === 'number' ? text : /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw expected(param, max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`, text);
  }
  return n;
}

export function parseNonNegativeInt(text: string | number, param: string): number {
  const n = typeof text === 'number' ? text : /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw expected(param, 'a non-negative integer', text);
  return n;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}
