// `filter`: count the records matching --where, and with --out write them, byte for byte, in file order.
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { type Instr, programToTest } from './lib/predicate.js';
import { WHERE_FLAG, compileWhere } from './lib/where.js';
import { usage } from '../errors.js';

export interface FilterSpec {
  where: string;
  program: Instr[];
}

export interface FilterPartial {
  matched: number;
}

/**
 * native/filter.cc: the records matching a --where program (postfix; it must leave one value): how
 * many, and with wantOutput their bytes in file order (a Buffer over memory the addon's thread recycles
 * when it is collected: copy it before it leaves the thread). null when cancelled through ctl.
 */
export interface FilterKernel {
  filter(
    ...args: [...KernelSpan, program: readonly Instr[], wantOutput: boolean, ctl?: Ctl | null]
  ): { matched: number; out?: Buffer } | null;
}

export const filter: OpDef<FilterSpec, FilterPartial, FilterPartial, FilterKernel> = {
  name: 'filter',
  summary: "count records matching --where 'price > 110 && side == 1'; --out FILE writes them",
  writesRecords: true,
  flags: [WHERE_FLAG],
  prepare(options, layout) {
    if (options.where === undefined || String(options.where).trim() === '') {
      throw usage("--op filter needs --where EXPR, e.g. --where 'price > 110 && side == 1'");
    }
    const where = String(options.where);
    return { where, program: compileWhere(where, layout) };
  },
  init() {
    return { matched: 0 };
  },
  js(spec, chunk, wantOutput) {
    const test = programToTest(spec.program);
    const { bytes, records, recordSize } = chunk;
    let matched = 0;
    const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = wantOutput ? new Uint8Array(records * recordSize) : undefined;
    for (let i = 0, base = 0; i < records; i++, base += recordSize) {
      if (test(bytes, base)) {
        if (out) out.set(src.subarray(base, base + recordSize), matched * recordSize);
        matched++;
      }
    }
    return { partial: { matched }, output: out ? out.slice(0, matched * recordSize) : undefined };
  },
  native(spec, c, wantOutput) {
    const r = c.addon.filter(c.mapping, c.byteOffset, c.records, c.recordSize, spec.program, wantOutput, c.ctl);
    if (r === null) return null;
    // Copy the records out of the addon's buffer: that one is recycled by its thread when collected,
    // so it must not travel to the main thread; the copy is transferred there without another copy.
    return { partial: { matched: r.matched }, output: r.out ? new Uint8Array(r.out) : undefined };
  },
  merge(_spec, a, b) {
    return { matched: a.matched + b.matched };
  },
  finalize(_spec, p) {
    return { matched: p.matched };
  },
  format(spec, r) {
    return `matched ${r.matched} records where ${spec.where}`;
  },
};
