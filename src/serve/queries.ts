// Query strings the API accepts, as zod schemas: every value bounded, unknown parameters refused (a
// misspelt filter must not silently return everything).
import * as z from 'zod/mini';
import { parseLease } from '../config/units.js';

const EVENT_TYPES = [
  'created',
  'claimed',
  'renewed_late',
  'committed',
  'commit_rejected',
  'failed',
  'expired',
  'released',
  'merged',
  'retried',
] as const;
const text = z.string().check(z.minLength(1), z.maxLength(256));
const count = (max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d{1,10}$/, 'a non-negative integer')), z.transform(Number)),
    z.number().check(z.int(), z.minimum(0), z.maximum(max)),
  );
const positive = (max: number) => z.pipe(count(max), z.number().check(z.minimum(1)));

export const NO_QUERY = z.strictObject({});

export const SHARDS_QUERY = z.strictObject({
  state: z.optional(z.enum(['pending', 'running', 'done', 'failed'])),
  host: z.optional(text),
});

export const EVENTS_QUERY = z.strictObject({
  shard: z.optional(count(1_000_000_000)),
  host: z.optional(text),
  type: z.optional(z.enum(EVENT_TYPES)),
  /** the cursor: events with a greater number than this */
  after: z.optional(count(Number.MAX_SAFE_INTEGER)),
  limit: z.optional(positive(5000)),
});

const lease = z.pipe(
  z.string().check(z.maxLength(32)),
  z.transform((v: string, ctx) => {
    try {
      return parseLease(v);
    } catch (e) {
      ctx.issues.push({ code: 'custom', message: (e as Error).message, input: v });
      return z.NEVER;
    }
  }),
);

export const HEALTH_QUERY = z.strictObject({
  run: z.optional(text),
  lease: z.optional(lease),
  periods: z.optional(positive(1000)),
});

export const LOGIN_QUERY = z.strictObject({ token: z.string().check(z.minLength(1), z.maxLength(1024)) });

/** A query string as an object; a parameter given twice is refused rather than one of them picked. */
export function queryObject(params: URLSearchParams): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in out) return `the query parameter ${JSON.stringify(k)} is given more than once`;
    out[k] = v;
  }
  return out;
}

/** zod's complaint as one line: which parameter, what was wrong. */
export function issuesLine(error: z.core.$ZodError): string {
  return error.issues
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown query parameter ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : `${i.path.join('.') || 'query'}: ${i.message}`,
    )
    .join('; ');
}
