// `filter` and `count --where` on gpu.js, exact: the CPU gathers the raw 16-bit parts (exact in f32) of
// every field the --where program reads; one kernel turns them into order-preserving keys (hist-keys.ts)
// and evaluates the program as comparisons of keys with the constants' threshold keys — `x ≥ e` ⟺
// key(x) ≥ threshold(e) and `x > e` ⟺ key(x) ≥ threshold⁺(e), NaN false in every comparison but != —
// so every record matches exactly as on the CPU. count sums the mask per segment of 1024 on the GPU
// (sums below 2^24, exact) and adds the segments on the CPU; filter reads the mask back and copies the
// matching records in file order on the CPU. Under --max-memory a call takes as many records as its
// textures, upload and readback arrays fit in the device's share (bytesFor).
import type { Cmp, Instr } from '../../ops/lib/predicate.js';
import type { GpuChunk } from '../device.js';
import { partsOf, readParts, thresholdKey, type KeyedType } from './hist-keys.js';
import { geConstant, isNaNKey, keyStatements } from './key-glsl.js';
import type { GpuJs, GpuJsKernel } from './load.js';
import { largestFitting } from '../fit.js';
import { arrayArgumentBytes, kernelHeldBytes, outputTextureBytes } from './texture-bytes.js';

type CmpInstr = Extract<Instr, { op: 'cmp' }>;

const SEGMENT = 1024;
/** raw parts per kernel call: indices stay exact in f32 */
const PARTS_PER_CALL = 2 ** 23;

/** One field the program reads: where its parts sit in a record's slot of the upload. */
interface KeyedField {
  offset: number;
  type: KeyedType;
  bigEndian: boolean;
  /** first part's position in the record's slot */
  at: number;
  name: string;
}

export function gpuJsRefusesWhere(program: Instr[] | null): string | null {
  if (!program) return 'count without --where reads no bytes: there is nothing to run on a GPU (use --backend native)';
  for (const ins of program)
    if (ins.op === 'cmp' && (ins.type === 'i64' || ins.type === 'u64'))
      return `gpu.js compares 8- to 32-bit integers and f32/f64 fields exactly, not ${ins.type} ones: use --backend native for --where on ${ins.type} fields`;
  return null;
}

const fieldId = (c: CmpInstr) => `${c.offset}:${c.type}:${c.bigEndian === true}`;

function keyedFields(program: Instr[]): Map<string, KeyedField> {
  const fields = new Map<string, KeyedField>();
  let at = 0;
  for (const ins of program) {
    if (ins.op !== 'cmp' || fields.has(fieldId(ins))) continue;
    const type = ins.type as KeyedType;
    fields.set(fieldId(ins), {
      offset: ins.offset,
      type,
      bigEndian: ins.bigEndian === true,
      at,
      name: `k${fields.size}_`,
    });
    at += partsOf(type);
  }
  return fields;
}

const TRUE = '(0 == 0)';
const FALSE = '(0 == 1)';

/** One comparison as a GLSL condition on its field's key (see the header for the mapping). */
function cmpCondition(ins: CmpInstr, f: KeyedField): string {
  const value = Number(ins.value);
  if (Number.isNaN(value)) return ins.cmp === 'ne' ? TRUE : FALSE;
  const n = partsOf(f.type);
  const ge = (strict: boolean) => geConstant(n, thresholdKey(value, f.type, strict), f.name);
  const float = f.type === 'f32' || f.type === 'f64';
  const byCmp: Record<Cmp, string> = {
    ge: ge(false),
    gt: ge(true),
    lt: `!(${ge(false)})`,
    le: `!(${ge(true)})`,
    eq: `(${ge(false)} && !(${ge(true)}))`,
    ne: `!(${ge(false)} && !(${ge(true)}))`,
  };
  const cond = `(${byCmp[ins.cmp]})`;
  if (!float) return cond;
  // a NaN compares false with everything, so it is != everything
  return ins.cmp === 'ne' ? `(${f.name}nan == 1 || ${cond})` : `(${f.name}nan == 0 && ${cond})`;
}

/** The postfix program as one GLSL condition. */
function condition(program: Instr[], fields: Map<string, KeyedField>): string {
  const stack: string[] = [];
  for (const ins of program) {
    if (ins.op === 'const') stack.push(ins.value ? TRUE : FALSE);
    else if (ins.op === 'not') stack.push(`!${stack.pop()!}`);
    else if (ins.op === 'cmp') stack.push(cmpCondition(ins, fields.get(fieldId(ins))!));
    else {
      const r = stack.pop()!;
      const l = stack.pop()!;
      stack.push(`(${l} ${ins.op === 'and' ? '&&' : '||'} ${r})`);
    }
  }
  if (stack.length !== 1) throw new Error('internal: malformed predicate program');
  return stack[0]!;
}

/** Kernel: 1 where record i matches, else 0. */
function maskKernel(program: Instr[], fields: Map<string, KeyedField>, width: number): string {
  const keys = [...fields.values()].map((f) => {
    const n = partsOf(f.type);
    const read = keyStatements(f.type, n, f.name, (k) => `src[i * ${width} + ${f.at + k}]`);
    if (f.type !== 'f32' && f.type !== 'f64') return read;
    return `${read}\n  let ${f.name}nan = 0;\n  if (${isNaNKey(f.type, n, f.name)}) { ${f.name}nan = 1; }`;
  });
  return `function (src) {
  const i = this.thread.x;
  ${keys.join('\n  ')}
  if (${condition(program, fields)}) { return 1; }
  return 0;
}`;
}

/** Kernel: the mask's sum over each segment of SEGMENT records. */
const SUM_KERNEL = `function (mask, n) {
  const seg = this.thread.x;
  let c = 0;
  for (let j = 0; j < ${SEGMENT}; j++) {
    const at = seg * ${SEGMENT} + j;
    if (at < n) { c = c + mask[at]; }
  }
  return c;
}`;

export class GpuJsPredicate {
  private readonly fields: KeyedField[];
  /** raw parts per record */
  private readonly width: number;
  private readonly recordsPerCall: number;
  private readonly maskToRead: GpuJsKernel;
  private readonly maskOnGpu: GpuJsKernel;
  private readonly sums: GpuJsKernel;
  private upload = new Float32Array(0);
  /** the most bytes a call held (textures, upload and readback arrays), from gpu.js's own objects */
  peak = 0;

  constructor(
    private readonly lib: GpuJs,
    program: Instr[],
  ) {
    const fields = keyedFields(program);
    this.fields = [...fields.values()];
    this.width = Math.max(
      1,
      this.fields.reduce((a, f) => a + partsOf(f.type), 0),
    );
    this.recordsPerCall = Math.floor(PARTS_PER_CALL / this.width);
    const settings = {
      output: [1],
      precision: 'single',
      tactic: 'precision',
      dynamicOutput: true,
      dynamicArguments: true,
    };
    const source = maskKernel(program, fields, this.width);
    this.maskToRead = lib.gpu.createKernel(source, { ...settings, asyncMode: true });
    this.maskOnGpu = lib.gpu.createKernel(source, { ...settings, pipeline: true });
    this.sums = lib.gpu.createKernel(SUM_KERNEL, { ...settings, asyncMode: true });
  }

  /**
   * What a call of `n` records allocates: the parts (ours, gpu.js's copy, its texture) and the mask's
   * texture, then for count the segment sums' texture and readback, for filter the mask's readback.
   */
  bytesFor(n: number, op: 'count' | 'filter'): number {
    const parts = n * this.width;
    const read = op === 'count' ? 2 * outputTextureBytes(Math.ceil(n / SEGMENT)) : outputTextureBytes(n);
    return 4 * parts + arrayArgumentBytes(parts) + outputTextureBytes(n) + read;
  }

  /** Records per call: recordsPerCall, or fewer so that bytesFor fits `maxBytes` (0 when one record does not). */
  callRecords(op: 'count' | 'filter', maxBytes?: number): number {
    if (maxBytes === undefined) return this.recordsPerCall;
    return largestFitting(this.recordsPerCall, maxBytes, (n) => this.bytesFor(n, op));
  }

  /** The chunk's records' parts from `first` on (n records), one slot of `width` parts per record. */
  private gather(chunk: GpuChunk, first: number, n: number): Float32Array {
    // under --max-memory a larger upload array left from an earlier call would hold more than the fit
    const budgeted = chunk.maxBytes !== undefined;
    if (this.upload.length < n * this.width || (budgeted && this.upload.length > n * this.width))
      this.upload = new Float32Array(n * this.width);
    const src = this.upload.subarray(0, n * this.width);
    const dv = new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    for (const f of this.fields) {
      const le = !f.bigEndian;
      for (let i = 0, pos = first * chunk.recordSize + f.offset; i < n; i++, pos += chunk.recordSize)
        readParts(dv, pos, f.type, le, src, i * this.width + f.at);
    }
    return src;
  }

  /** How many of the chunk's records match. */
  async count(chunk: GpuChunk): Promise<number> {
    let matched = 0;
    // under --max-memory: as many records per call as fit the device's share (the run checked one does)
    const perCall = Math.max(1, this.callRecords('count', chunk.maxBytes));
    for (let first = 0; first < chunk.records; first += perCall) {
      const n = Math.min(perCall, chunk.records - first);
      this.maskOnGpu.setOutput([n]);
      const mask = this.maskOnGpu(this.gather(chunk, first, n));
      this.lib.check(this.maskOnGpu);
      const segments = Math.ceil(n / SEGMENT);
      this.sums.setOutput([segments]);
      const sums = (await this.sums(mask, n)) as Float32Array;
      this.lib.check(this.sums);
      this.measure(kernelHeldBytes(this.maskOnGpu.kernel) + kernelHeldBytes(this.sums.kernel) + sums.buffer.byteLength);
      for (let s = 0; s < segments; s++) matched += sums[s]!;
    }
    return matched;
  }

  /** The matching records' count, and with wantOutput their bytes in file order. */
  async filter(chunk: GpuChunk): Promise<{ matched: number; output?: Uint8Array }> {
    const { recordSize } = chunk;
    const out = chunk.wantOutput ? new Uint8Array(chunk.records * recordSize) : undefined;
    let matched = 0;
    const perCall = Math.max(1, this.callRecords('filter', chunk.maxBytes));
    for (let first = 0; first < chunk.records; first += perCall) {
      const n = Math.min(perCall, chunk.records - first);
      this.maskToRead.setOutput([n]);
      const mask = (await this.maskToRead(this.gather(chunk, first, n))) as Float32Array;
      this.lib.check(this.maskToRead);
      this.measure(kernelHeldBytes(this.maskToRead.kernel) + mask.buffer.byteLength);
      for (let i = 0; i < n; i++) {
        if (mask[i] !== 1) continue;
        const base = (first + i) * recordSize;
        out?.set(chunk.bytes.subarray(base, base + recordSize), matched * recordSize);
        matched++;
      }
    }
    return { matched, output: out?.slice(0, matched * recordSize) };
  }

  /** A call's peak: what its kernels and readback hold, with the upload array. */
  private measure(held: number): void {
    this.peak = Math.max(this.peak, this.upload.byteLength + held);
  }

  close(): void {
    this.maskToRead.destroy?.(false);
    this.maskOnGpu.destroy?.(false);
    this.sums.destroy?.(false);
  }
}
