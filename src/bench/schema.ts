// The schema of `bigproc bench --json`, for tests and for anyone who consumes the document. The CLI
// does not import it (it builds the document from the types in types.ts, which this schema must
// match: the annotation below fails to compile when they drift apart).
import * as z from 'zod';
import type { BenchDocument } from './types.js';

const spread = z.strictObject({
  median: z.number().positive(),
  min: z.number().positive(),
  max: z.number().positive(),
  spread: z.number().nonnegative(),
  n: z.number().int().positive(),
});
const op = z.strictObject({
  label: z.string().min(1),
  op: z.string().min(1),
  options: z.record(z.string(), z.string()),
});
const tool = z.enum(['bigproc', 'numpy']);

const limit = z.strictObject({
  kind: z.enum(['mem', 'read', 'cold']),
  ok: z.boolean(),
  error: z.string().nullable(),
  threads: z.number().int().positive(),
  gbps: spread.nullable(),
  resident_after_drop: z.array(z.number().min(0).max(1)).optional(),
  note: z.string().nullable().optional(),
});

const benchCase = z.strictObject({
  id: z.number().int().nonnegative(),
  op,
  tool,
  workers: z.number().int().positive(),
  chunk_size: z.number().int().nonnegative(),
  backend: z.string(),
});

const run = z.strictObject({
  case_id: z.number().int().nonnegative(),
  round: z.number().int().nonnegative(),
  warmup: z.boolean(),
  ok: z.boolean(),
  seconds: z.number().positive(),
  gbps: z.number().positive().nullable(),
  inner_gbps: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
});

const summary = z.strictObject({
  case_id: z.number().int().nonnegative(),
  label: z.string(),
  tool,
  workers: z.number().int().positive(),
  chunk_size: z.number().int().nonnegative(),
  backend: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  gbps: spread.nullable(),
  seconds: spread.nullable(),
  ratio_to_memory: z.number().positive().nullable(),
  speedup: z.number().positive().nullable(),
  efficiency: z.number().positive().nullable(),
});

const recommendation = z.strictObject({
  op: z.string(),
  case_id: z.number().int().nonnegative(),
  workers: z.number().int().positive(),
  chunk_size: z.number().int().positive(),
  backend: z.string(),
  gbps: z.number().positive(),
  best_case_id: z.number().int().nonnegative(),
  margin: z.number().nullable(),
  spread: z.number().nonnegative().nullable(),
  significant: z.boolean(),
  reason: z.string().min(1),
});

export const benchDocumentSchema: z.ZodType<BenchDocument> = z.strictObject({
  version: z.literal(1),
  date: z.iso.datetime(),
  machine: z.strictObject({
    cpu_model: z.string(),
    cores: z.number().int().positive(),
    memory_bytes: z.number().positive(),
    kernel: z.string(),
    node: z.string(),
    dispatch: z.string().nullable(),
  }),
  file: z.strictObject({
    path: z.string(),
    bytes: z.number().int().positive(),
    generated: z.boolean(),
    layout: z.string(),
  }),
  settings: z.strictObject({
    warmup: z.number().int().nonnegative(),
    repeat: z.number().int().positive(),
    cold: z.boolean(),
    compare: z.boolean(),
  }),
  limits: z.array(limit),
  cases: z.array(benchCase),
  runs: z.array(run),
  summary: z.array(summary),
  recommendations: z.array(recommendation),
  compare_note: z.string().nullable(),
  seconds: z.number().positive(),
});
