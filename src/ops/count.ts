// `count`: the number of records, and with --where the number matching it. Without --where a chunk's
// partial is just its record count (the native path never reads the bytes), so it works on opaque
// --record-size records; with --where it reuses the filter kernel without output.
import type { OpDef } from './types.js';
import type { Instr } from './lib/predicate.js';
import { WHERE_FLAG, optionalWhere } from './lib/where.js';
import { type FilterKernel, filter } from './filter.js';
import { Control } from '../engine/control.js';

export interface CountSpec {
  where: string | null;
  program: Instr[] | null;
}

export interface CountPartial {
  records: number;
  matched: number;
}

export interface CountResult {
  records: number;
  matched?: number;
}

export const count: OpDef<CountSpec, CountPartial, CountResult, FilterKernel> = {
  name: 'count',
  summary: 'count records; with --where also those matching it (works on opaque --record-size records without --where)',
  flags: [WHERE_FLAG],
  prepare(options, layout) {
    return optionalWhere(options, layout) ?? { where: null, program: null };
  },
  init() {
    return { records: 0, matched: 0 };
  },
  js(spec, chunk) {
    if (!spec.program) return { partial: { records: chunk.records, matched: 0 } };
    const r = filter.js({ where: spec.where!, program: spec.program }, chunk, false);
    return { partial: { records: chunk.records, matched: r.partial.matched } };
  },
  native(spec, c) {
    if (!spec.program) {
      // Nothing to read: report the chunk's bytes as processed so progress still moves.
      new Control(c.ctl).addBytes(c.records * c.recordSize);
      return { partial: { records: c.records, matched: 0 } };
    }
    const r = c.addon.filter(c.mapping, c.byteOffset, c.records, c.recordSize, spec.program, false, c.ctl);
    return r === null ? null : { partial: { records: c.records, matched: r.matched } };
  },
  merge(_spec, a, b) {
    return { records: a.records + b.records, matched: a.matched + b.matched };
  },
  finalize(spec, p) {
    return spec.program ? { records: p.records, matched: p.matched } : { records: p.records };
  },
  format(spec, r) {
    return spec.where === null
      ? `${r.records} records`
      : `${r.records} records, ${r.matched} matched where ${spec.where}`;
  },
};
