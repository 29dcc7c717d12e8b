// Which ops a bench sweeps, and with which options. `--ops 'stats,hist:field=price,range=80:120'`:
// items separated by commas; an item that starts with an op's name (optionally followed by `:` and its
// first option) starts an op, any other item (`range=80:120`, or a bare `asc`) is one more option of
// the op before it. Option names are `bigproc run`'s flag names.
import { expected } from '../errors.js';
import { own } from '../keys.js';
import { OPS } from '../ops/registry.js';
import { isFloat, isNumeric, type Layout } from '../layout/types.js';
import type { BenchOp } from './types.js';

/** The generated file's layout and the ops that make sense on it. */
export const TICKS_SCHEMA = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';
export const TICKS_DIST =
  'ts=seq:1700000000000000000:1000000,price=normal:100:10,qty=uniform:1:1000,side=uniform:0:1,flags=uniform:0:15,venue=uniform:0:31';
const TICKS_OPS = [
  'stats',
  'filter:where=price > 110',
  'hist:field=price,range=80:120,bins=40',
  'groupby:key=venue,agg=count',
];

function isOpItem(item: string): boolean {
  const colon = item.indexOf(':');
  const eq = item.indexOf('=');
  if (eq >= 0 && (colon < 0 || eq < colon)) return false;
  return own(OPS, colon < 0 ? item : item.slice(0, colon)) !== undefined;
}

function addOption(op: BenchOp, item: string): void {
  const eq = item.indexOf('=');
  const name = (eq < 0 ? item : item.slice(0, eq)).trim();
  if (!/^[a-z][a-z-]*$/.test(name))
    throw expected('--ops', "options as name=value (a `bigproc run` flag's name)", item);
  op.options[name] = eq < 0 ? 'true' : item.slice(eq + 1);
}

export function parseOps(text: string): BenchOp[] {
  const ops: BenchOp[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    if (isOpItem(item)) {
      const colon = item.indexOf(':');
      const op: BenchOp = { label: item, op: colon < 0 ? item : item.slice(0, colon), options: {} };
      if (colon >= 0) addOption(op, item.slice(colon + 1));
      ops.push(op);
    } else {
      const last = ops.at(-1);
      if (!last) throw expected('--ops', `a list starting with an op (${Object.keys(OPS).join(', ')})`, text);
      addOption(last, item);
      last.label = `${last.label},${item}`;
    }
  }
  if (ops.length === 0) throw expected('--ops', 'at least one op', text);
  return ops;
}

/** The ops swept when --ops is not given: for the generated file, or for any layout of the user's. */
export function defaultOps(layout: Layout | null): BenchOp[] {
  if (layout === null) return parseOps(TICKS_OPS.join(','));
  const numeric = layout.fields.filter((f) => isNumeric(f.type));
  if (numeric.length === 0) return parseOps('count,checksum'); // opaque records: no fields to read
  // The first float field if there is one (its values spread), else the first numeric field.
  const f = numeric.find((x) => isFloat(x.type)) ?? numeric[0]!;
  return [...parseOps('stats'), ...parseOps(`filter:where=${f.name} > 0`), ...parseOps(`hist:field=${f.name}`)];
}

/** `bigproc run` arguments for one op's options. */
export function opArgs(op: BenchOp): string[] {
  const args = ['--op', op.op];
  for (const [k, v] of Object.entries(op.options)) args.push(...(v === 'true' ? [`--${k}`] : [`--${k}`, v]));
  return args;
}
