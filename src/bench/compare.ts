// --compare: "what you would write otherwise" — the numpy.memmap program for stats, filter (a count)
// and hist, timed the same way (whole python3 processes, interleaved with bigproc's runs) on the same
// file. The program is one script given to `python3 -c`; each case passes it a JSON spec.
import { parsePredicate, type Expr } from '../ops/lib/predicate.js';
import { isNumeric, type Layout } from '../layout/types.js';
import { failureLine, runChild } from './child.js';
import type { BenchOp } from './types.js';

export const PYTHON = process.env.BIGPROC_BENCH_PYTHON || 'python3';

const SCRIPT = `
import json, sys
import numpy as np
spec = json.loads(sys.argv[1])
dt = np.dtype({k: spec['dtype'][k] for k in ('names', 'formats', 'offsets', 'itemsize')})
m = np.memmap(spec['file'], dtype=dt, mode='r', offset=spec['offset'], shape=(spec['records'],))
def pred(e):
    k = e['kind']
    if k == 'cmp':
        a, v = m[e['field']], float(int(e['literal'], 16)) if e['literal'].lower().lstrip('+-').startswith('0x') else float(e['literal'])
        return {'lt': a < v, 'le': a <= v, 'gt': a > v, 'ge': a >= v, 'eq': a == v, 'ne': a != v}[e['cmp']]
    if k == 'bool': return np.full(m.shape[0], e['value'])
    if k == 'not': return ~pred(e['arg'])
    l, r = pred(e['left']), pred(e['right'])
    return l & r if k == 'and' else l | r
op = spec['op']
if op == 'stats':
    out = {f: [float(m[f].sum()), float(m[f].min()), float(m[f].max()), float(m[f].mean()), float(m[f].std())] for f in spec['fields']}
elif op == 'filter':
    out = int(np.count_nonzero(pred(spec['where'])))
else:
    counts, edges = np.histogram(m[spec['field']], bins=spec['bins'], range=spec['range'])
    out = [int(c) for c in counts]
print(json.dumps(out))
`;

export interface NumpyCheck {
  ok: boolean;
  reason: string | null;
}

/** Is python3 with NumPy here? One line saying why not, where not. */
export async function checkNumpy(): Promise<NumpyCheck> {
  const r = await runChild(PYTHON, ['-c', 'import numpy; print(numpy.__version__)']);
  if (r.spawnError) return { ok: false, reason: `--compare skipped: ${PYTHON} is not installed (${r.spawnError})` };
  if (r.code !== 0)
    return { ok: false, reason: `--compare skipped: NumPy is not installed for ${PYTHON} (${failureLine(r)})` };
  return { ok: true, reason: null };
}

const NUMPY_TYPE: Record<string, string> = {
  i8: 'i1',
  u8: 'u1',
  i16: 'i2',
  u16: 'u2',
  i32: 'i4',
  u32: 'u4',
  i64: 'i8',
  u64: 'u8',
  f32: 'f4',
  f64: 'f8',
};

function numpyDtype(layout: Layout) {
  const e = layout.bigEndian ? '>' : '<';
  return {
    names: layout.fields.map((f) => f.name),
    formats: layout.fields.map((f) => (f.type === 'bytes' ? `V${f.size}` : `${e}${NUMPY_TYPE[f.type]}`)),
    offsets: layout.fields.map((f) => f.offset),
    itemsize: layout.recordSize,
  };
}

function parseRange(text: string | undefined): [number, number] | null {
  if (text === undefined) return null;
  const [lo, hi] = text.split(':').map(Number);
  return [lo!, hi!];
}

/**
 * The spec for one op, or null for an op (or option) the NumPy program does not cover: stats (every
 * field or --fields), filter without --out (a count of --where), hist (--field, --bins, --range).
 */
export function numpySpec(
  op: BenchOp,
  layout: Layout,
  file: string,
  fileBytes: number,
): Record<string, unknown> | null {
  const records = Math.floor((fileBytes - layout.headerBytes) / layout.recordSize);
  const base = { op: op.op, file, offset: layout.headerBytes, records, dtype: numpyDtype(layout) };
  const o = op.options;
  const known = (names: string[]) => Object.keys(o).every((k) => names.includes(k));
  if (op.op === 'stats' && known(['fields'])) {
    const fields = o.fields ? o.fields.split(',') : layout.fields.filter((f) => isNumeric(f.type)).map((f) => f.name);
    return { ...base, fields };
  }
  if (op.op === 'filter' && known(['where']) && o.where) {
    const where: Expr = parsePredicate(o.where);
    return { ...base, where };
  }
  if (op.op === 'hist' && known(['field', 'bins', 'range']) && o.field) {
    return { ...base, field: o.field, bins: Number(o.bins ?? 10), range: parseRange(o.range) };
  }
  return null;
}

export function numpyArgs(spec: Record<string, unknown>): string[] {
  return ['-c', SCRIPT, JSON.stringify(spec)];
}
