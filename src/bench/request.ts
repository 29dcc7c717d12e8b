// `bigproc bench` flags → one validated request; nothing after this reads a flag.
import { availableParallelism, freemem } from 'node:os';
import { resolve } from 'node:path';
import { parseNonNegativeInt, parsePositiveInt, parseSize } from '../config/units.js';
import { expected, usage } from '../errors.js';
import { loadAddon } from '../native/addon.js';
import { parseOps } from './ops.js';
import type { BenchOp } from './types.js';

export interface BenchFlags {
  file?: string;
  schema?: string;
  recordSize?: string;
  headerBytes?: string;
  frame?: string;
  size?: string;
  ops?: string;
  workers?: string;
  chunkSize: string;
  backends?: string;
  repeat: string;
  warmup: string;
  cold?: boolean;
  compare?: boolean;
  json?: boolean;
  html?: string;
  save?: boolean;
  seed: string;
  quiet?: boolean;
  tmpDir?: string;
  config?: string;
}

export interface BenchRequest {
  /** absolute path of the user's file, or null to generate one of `size` bytes */
  file: string | null;
  layoutArgs: string[];
  size: number;
  /** null: the defaults for the file's layout */
  ops: BenchOp[] | null;
  workers: number[];
  chunkSizes: number[];
  backends: string[];
  repeat: number;
  warmup: number;
  cold: boolean;
  compare: boolean;
  json: boolean;
  html: string | null;
  save: boolean;
  seed: string;
  quiet: boolean;
  tmpDir: string | null;
}

export const DEFAULT_CHUNK = '64MiB';
const BENCH_BACKENDS = ['auto', 'native', 'js'];

/** The default file size: the smaller of 4 GiB and a quarter of the free memory, whole records of 24 bytes. */
export function defaultSize(): number {
  return Math.min(4 * 2 ** 30, Math.floor(freemem() / 4));
}

/** 1, 2, 4, … up to the cores, and the cores themselves. */
export function defaultWorkers(cores = availableParallelism()): number[] {
  const out: number[] = [];
  for (let w = 1; w < cores; w *= 2) out.push(w);
  return [...out, cores];
}

function list<T>(text: string, param: string, parse: (s: string) => T): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw expected(param, 'a comma-separated list', text);
  return [...new Set(items.map(parse))];
}

function layoutArgs(f: BenchFlags): string[] {
  const pairs: [string, string | undefined][] = [
    ['--schema', f.schema],
    ['--record-size', f.recordSize],
    ['--header-bytes', f.headerBytes],
    ['--frame', f.frame],
  ];
  return pairs.flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
}

function parseWarmup(text: string): number {
  const n = parseNonNegativeInt(text, '--warmup');
  if (n > 100) throw expected('--warmup', 'at most 100 rounds', text);
  return n;
}

export function parseRequest(f: BenchFlags): BenchRequest {
  if (f.file === undefined && layoutArgs(f).length > 0)
    throw usage(
      'bench: layout options (--schema, --record-size, --header-bytes, --frame) describe --file, which is not given (without --file bench generates a file of its own layout)',
    );
  if (f.file !== undefined && f.size !== undefined)
    throw usage(
      'bench: --size is the size of the generated file; with --file the file is measured as it is (give one of them)',
    );
  const size = f.size === undefined ? defaultSize() : parseSize(f.size, '--size');
  if (size < 24) throw expected('--size', 'at least one record (24 bytes)', f.size);
  return {
    file: f.file === undefined ? null : resolve(f.file),
    layoutArgs: layoutArgs(f),
    size,
    ops: f.ops === undefined ? null : parseOps(f.ops),
    workers:
      f.workers === undefined
        ? defaultWorkers()
        : list(f.workers, '--workers', (s) => parsePositiveInt(s, '--workers', 1024)),
    chunkSizes: list(f.chunkSize, '--chunk-size', (s) => {
      const n = parseSize(s, '--chunk-size');
      if (n < 1) throw expected('--chunk-size', 'positive sizes', s);
      return n;
    }),
    backends:
      f.backends === undefined
        ? [loadAddon() ? 'native' : 'js']
        : list(f.backends, '--backends', (s) => {
            if (!BENCH_BACKENDS.includes(s)) throw expected('--backends', `a list of ${BENCH_BACKENDS.join(', ')}`, s);
            return s;
          }),
    repeat: parsePositiveInt(f.repeat, '--repeat', 1000),
    warmup: parseWarmup(f.warmup),
    cold: !!f.cold,
    compare: !!f.compare,
    json: !!f.json,
    html: f.html ?? null,
    save: !!f.save,
    seed: f.seed,
    quiet: !!f.quiet,
    tmpDir: f.tmpDir ?? null,
  };
}
