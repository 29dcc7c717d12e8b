// Query strings the API accepts, as zod schemas: every value bounded, unknown parameters refused (a
// misspelt filter must not silently return everything).
import { z } from 'zod';
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
const text = z.string().min(1).max(256);
const count = (max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(0).max(max));

export const NO_QUERY = z.object({}).strict();

export const SHARDS_QUERY = z
  .object({ state: z.enum(['pending', 'running', 'done', 'failed']).optional(), host: text.optional() })
  .strict();

export const EVENTS_QUERY = z
  .object({
    shard: count(1_000_000_000).optional(),
    host: text.optional(),
    type: z.enum(EVENT_TYPES).optional(),
    /** the cursor: events with a greater number than this */
    after: count(Number.MAX_SAFE_INTEGER).optional(),
    limit: count(5000).pipe(z.number().min(1)).optional(),
  })
  .strict();

export const HEALTH_QUERY = z
  .object({
    run: text.optional(),
    lease: z
      .string()
      .max(32)
      .transform((v, ctx) => {
        try {
          return parseLease(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    periods: count(1000).pipe(z.number().min(1)).optional(),
  })
  .strict();

export const LOGIN_QUERY = z.object({ token: z.string().min(1).max(1024) }).strict();

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
export function issuesLine(error: z.ZodError): string {
  return error.issues
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown query parameter ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : `${i.path.join('.') || 'query'}: ${i.message}`,
    )
    .join('; ');
}
