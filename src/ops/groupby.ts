// `groupby`: hash aggregation by one or more integer / bytes<N> key fields, with count, sum, mean,
// min, max and std (population) of numeric fields per group, sorted by key.
//
// A group's key is its canonical bytes (lib/groupby/key.ts). A partial is the chunk's groups sorted
// by that key, in columns (so a million groups are a few typed arrays, cheap to send between
// threads): record counts and, per aggregated field, the exact accumulators of `stats` (integer Σx
// in 128 bits, Σx² in 192; float Σx and Σx² exact, as mantissa·2^exponent). Merging is a sorted merge
// that adds accumulators exactly, so results are bit-identical for any --workers / --chunk-size, and
// finalize rounds once with stats' own helpers. More than --max-groups distinct keys, in a chunk or
// after a merge, is an error (exit 2), never an out-of-memory crash.
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import type { NumericType } from '../layout/types.js';
import type { FieldArg } from './lib/fields.js';
import type { Instr } from './lib/predicate.js';
import { WHERE_FLAG, optionalWhere } from './lib/where.js';
import {
  AGG_HELP,
  GROUPBY_DEFAULT_MAX_GROUPS,
  GROUPBY_MAX_MAX_GROUPS,
  parseAggs,
  parseKeys,
} from './lib/groupby/options.js';
import { groupbyJs } from './lib/groupby/oracle.js';
import { emptyPartial } from './lib/groupby/columns.js';
import { mergeGroups } from './lib/groupby/merge.js';
import { finalizeGroups } from './lib/groupby/finalize.js';
import type { GroupbyPartial, GroupbyResult, GroupbySpec } from './lib/groupby/types.js';
import { expected, usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { formatNumber, table } from '../report/format.js';

export type { GroupbyPartial, GroupbyResult, GroupbySpec };

/** What native/groupby.cc groups by and aggregates. */
export interface GroupbyNativeSpec {
  /** key fields in order: integer fields (kind 'int' with their type) or bytes<N> (kind 'bytes', size N) */
  keys: { offset: number; size: number; kind: 'int' | 'bytes'; type?: NumericType; bigEndian?: boolean }[];
  /** aggregated numeric fields; sum: accumulate Σx (floats only; integers always), sq: accumulate Σx² */
  fields: (FieldArg & { sum?: boolean; sq?: boolean })[];
  /** more distinct keys than this makes the call return {n: 0, …, overflow: true} */
  maxGroups: number;
}

/**
 * native/groupby.cc: hash aggregation of the span's records (those matching program, a --where
 * program or null) by the canonical key, as a GroupbyPartial; null when cancelled through ctl.
 */
export interface GroupbyKernel {
  groupby(
    ...args: [...KernelSpan, spec: GroupbyNativeSpec, program: readonly Instr[] | null, ctl?: Ctl | null]
  ): GroupbyPartial | null;
}

function nativeSpec(spec: GroupbySpec): GroupbyNativeSpec {
  return {
    keys: spec.keys.map((k) => ({
      offset: k.offset,
      size: k.size,
      kind: k.kind,
      ...(k.type ? { type: k.type } : {}),
      bigEndian: k.bigEndian,
    })),
    fields: spec.fields.map((f) => ({ offset: f.offset, type: f.type, bigEndian: f.bigEndian, sum: f.sum, sq: f.sq })),
    maxGroups: spec.maxGroups,
  };
}

export const groupby: OpDef<GroupbySpec, GroupbyPartial, GroupbyResult, GroupbyKernel> = {
  name: 'groupby',
  summary:
    "per-key aggregates: --key F[,F2] --agg 'count,sum(qty),mean(price),min(ts),max(ts),std(price)', sorted by key",
  flags: [
    {
      flags: '--key <fields>',
      description: 'groupby: the integer or bytes<N> field(s) to group by, e.g. venue or venue,side',
    },
    {
      flags: '--agg <list>',
      description: 'groupby: aggregates, from count, sum(F), mean(F), min(F), max(F), std(F) (default count)',
    },
    {
      flags: '--max-groups <n>',
      description: 'groupby: stop with an error past this many distinct keys (default 1000000)',
    },
    WHERE_FLAG,
  ],
  prepare(options, layout) {
    if (options.key === undefined || String(options.key).trim() === '')
      throw usage('--op groupby needs --key FIELD[,FIELD2], e.g. --key venue');
    const keys = parseKeys(layout, String(options.key));
    const aggText = options.agg === undefined ? 'count' : String(options.agg);
    if (aggText.trim() === '') throw expected('--agg', AGG_HELP, aggText);
    const { aggs, fields } = parseAggs(layout, aggText);
    const maxGroups = parsePositiveInt(
      (options.maxGroups as string | number | undefined) ?? GROUPBY_DEFAULT_MAX_GROUPS,
      '--max-groups',
      GROUPBY_MAX_MAX_GROUPS,
    );
    const spec: GroupbySpec = { keys, aggs, fields, maxGroups };
    const where = optionalWhere(options, layout);
    if (where) Object.assign(spec, where);
    return spec;
  },
  init() {
    return emptyPartial(false);
  },
  js(spec, chunk) {
    return { partial: groupbyJs(spec, chunk.bytes, chunk.records, chunk.recordSize) };
  },
  native(spec, c) {
    const partial = c.addon.groupby(
      c.mapping,
      c.byteOffset,
      c.records,
      c.recordSize,
      nativeSpec(spec),
      spec.program ?? null,
      c.ctl,
    );
    return partial === null ? null : { partial };
  },
  merge(spec, a, b) {
    return mergeGroups(spec, a, b);
  },
  finalize(spec, p) {
    return finalizeGroups(spec, p);
  },
  format(spec, r) {
    const head = [...r.keys, ...r.aggs];
    const rows = r.groups.map((g) => [
      ...g.key.map(String),
      ...r.aggs.map((a) => formatNumber(g[a] as number | string | null)),
    ]);
    const where = spec.where ? ` where ${spec.where}` : '';
    const summary = `${r.groups.length} group${r.groups.length === 1 ? '' : 's'} by ${r.keys.join(',')}${where}`;
    return rows.length === 0 ? `${summary}\n(no groups)` : `${table(head, rows, r.keys.length)}\n${summary}`;
  },
};
