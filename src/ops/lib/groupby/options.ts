// groupby's options: --key fields into key specs, --agg list into aggregates and the fields they need.
import type { Field, Layout } from '../../../layout/types.js';
import { isFloat, isNumeric } from '../../../layout/types.js';
import { expected } from '../../../errors.js';
import { fieldSpec, numericField } from '../fields.js';
import type { AggFn, GroupAggSpec, GroupFieldSpec, GroupKeySpec } from './types.js';

export const GROUPBY_DEFAULT_MAX_GROUPS = 1_000_000;
export const GROUPBY_MAX_MAX_GROUPS = 1_000_000_000;

const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'mean', 'min', 'max', 'std'];
export const AGG_HELP =
  'a comma-separated list of count, sum(F), mean(F), min(F), max(F), std(F) with F a numeric field';

function keyField(layout: Layout, name: string): Field {
  const f = layout.fields.find((x) => x.name === name);
  const usable = layout.fields.filter((x) => !isFloat(x.type)).map((x) => x.name);
  if (!f)
    throw expected(
      '--key',
      `a field of the layout (${usable.join(', ') || 'none: the layout has no integer or bytes fields'})`,
      name,
    );
  if (isFloat(f.type))
    throw expected('--key', `an integer or bytes<N> field, not ${f.type} (float keys are not supported)`, name);
  return f;
}

export function parseKeys(layout: Layout, text: string): GroupKeySpec[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === ''))
    throw expected('--key', 'a comma-separated list of field names, e.g. venue or venue,side', text);
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw expected('--key', 'distinct fields', text);
    seen.add(n);
    const f = keyField(layout, n);
    return isNumeric(f.type)
      ? { name: f.name, offset: f.offset, size: f.size, kind: 'int', type: f.type, bigEndian: layout.bigEndian }
      : { name: f.name, offset: f.offset, size: f.size, kind: 'bytes', bigEndian: layout.bigEndian };
  });
}

/** One --agg item as (fn, field name or undefined for count). */
function parseAggItem(item: string): { fn: AggFn; fieldName: string | undefined } {
  const m = /^([a-z]+)\s*(?:\(\s*([^()\s]*)\s*\))?$/i.exec(item);
  if (!m || !AGG_FNS.includes(m[1]!.toLowerCase() as AggFn)) throw expected('--agg', AGG_HELP, item);
  const fn = m[1]!.toLowerCase() as AggFn;
  const fieldName = m[2];
  if (fn === 'count') {
    if (fieldName !== undefined && fieldName !== '')
      throw expected('--agg', 'count without a field (it counts the records of each group)', item);
    return { fn, fieldName: undefined };
  }
  if (fieldName === undefined || fieldName === '')
    throw expected('--agg', `${fn}(F) with F a numeric field, e.g. ${fn}(price)`, item);
  return { fn, fieldName };
}

export function parseAggs(layout: Layout, text: string): { aggs: GroupAggSpec[]; fields: GroupFieldSpec[] } {
  const aggs: GroupAggSpec[] = [];
  const fields: GroupFieldSpec[] = [];
  const labels = new Set<string>();
  for (const item of text.split(',').map((s) => s.trim())) {
    const { fn, fieldName } = parseAggItem(item);
    const label = fieldName === undefined ? 'count' : `${fn}(${fieldName})`;
    if (labels.has(label)) continue;
    labels.add(label);
    if (fieldName === undefined) {
      aggs.push({ label, fn });
      continue;
    }
    const f = numericField(layout, fieldName, '--agg');
    let idx = fields.findIndex((x) => x.name === f.name);
    if (idx < 0) {
      fields.push({ ...fieldSpec(layout, f), name: f.name, sum: false, sq: false });
      idx = fields.length - 1;
    }
    const gf = fields[idx]!;
    if (fn === 'sum' || fn === 'mean' || fn === 'std') gf.sum = true;
    if (fn === 'std') gf.sq = true;
    aggs.push({ label, fn, field: idx });
  }
  return { aggs, fields };
}
