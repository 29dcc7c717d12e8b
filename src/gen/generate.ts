// Synthetic records for `bigproc gen`: a counter-based generator (splitmix64 keyed by seed, record
// number and field number), so every record depends only on its index and the output is the same
// whatever the worker count. This is the JS twin of native/gen.cc, bit for bit.
import type { Layout, NumericType } from '../layout/types.js';
import { isFloat } from '../layout/types.js';
import { expected } from '../errors.js';
import { INT_RANGE } from '../ops/lib/fields.js';

export type Dist =
  | { kind: 'uniform'; lo: number | bigint; hi: number | bigint }
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'seq'; start: number | bigint; step: number | bigint }
  | { kind: 'const'; value: number | bigint };

export interface GenField {
  offset: number;
  size: number;
  type: NumericType | 'bytes';
  /** left out: little-endian */
  bigEndian?: boolean;
  dist?: Dist;
}

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const C1 = 0xbf58476d1ce4e5b9n;
const C2 = 0x94d049bb133111ebn;

export function splitmix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * C1) & M64;
  z = ((z ^ (z >> 27n)) * C2) & M64;
  return z ^ (z >> 31n);
}

const SQRT3 = Math.sqrt(3);

/** Parse `--dist 'price=normal:100:10,qty=uniform:1:100,ts=seq:0:1000,flags=const:0'` against a layout. */
export function parseDists(text: string | undefined, layout: Layout): Map<string, Dist> {
  const out = new Map<string, Dist>();
  if (!text) return out;
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([\p{L}\p{Nl}_][\p{L}\p{M}\p{N}_]*)=(uniform|normal|seq|const):(.+)$/u.exec(item);
    if (!m) throw expected('--dist', 'FIELD=uniform:LO:HI, normal:MEAN:SD, seq:START:STEP or const:V', item);
    const [, name, kind, rest] = m;
    const f = layout.fields.find((x) => x.name === name);
    if (!f || f.type === 'bytes') throw expected('--dist', `a numeric field of the layout`, name);
    const float = isFloat(f.type);
    const args = rest!.split(':');
    const want = kind === 'const' ? 1 : 2;
    const num = (s: string): number | bigint => {
      if (float || kind === 'normal') {
        const v = Number(s);
        if (!Number.isFinite(v)) throw expected('--dist', 'finite numbers', item);
        return v;
      }
      if (!/^-?\d+$/.test(s)) throw expected('--dist', `integers for the ${f.type} field ${name}`, item);
      return BigInt(s);
    };
    if (args.length !== want) throw expected('--dist', `${want} value(s) after ${kind}:`, item);
    const v = args.map(num);
    let d: Dist;
    if (kind === 'uniform') {
      if (v[0]! > v[1]!) throw expected('--dist', 'LO <= HI', item);
      if (!float) {
        const [min, max] = INT_RANGE[f.type as keyof typeof INT_RANGE];
        if ((v[0] as bigint) < min || (v[1] as bigint) > max)
          throw expected('--dist', `bounds within ${f.type} (${min}..${max})`, item);
      }
      d = { kind, lo: v[0]!, hi: v[1]! };
    } else if (kind === 'normal') d = { kind, mean: v[0] as number, sd: v[1] as number };
    else if (kind === 'seq') d = { kind, start: v[0]!, step: v[1]! };
    else {
      if (!float) {
        const [min, max] = INT_RANGE[f.type as keyof typeof INT_RANGE];
        if ((v[0] as bigint) < min || (v[0] as bigint) > max)
          throw expected('--dist', `a constant within ${f.type} (${min}..${max})`, item);
      }
      d = { kind: 'const', value: v[0]! };
    }
    out.set(name!, d);
  }
  return out;
}

/** Field specs for the generators: every field of the layout with its distribution (or the default). */
export function genFields(layout: Layout, dists: Map<string, Dist>): GenField[] {
  return layout.fields.map((f) => {
    const g: GenField = { offset: f.offset, size: f.size, type: f.type, bigEndian: layout.bigEndian };
    if (f.type !== 'bytes') {
      g.dist =
        dists.get(f.name) ??
        (isFloat(f.type)
          ? { kind: 'uniform', lo: 0, hi: 1 }
          : {
              kind: 'uniform',
              lo: INT_RANGE[f.type as keyof typeof INT_RANGE][0],
              hi: INT_RANGE[f.type as keyof typeof INT_RANGE][1],
            });
    }
    return g;
  });
}

const WIDTH_BITS: Record<string, bigint> = {
  i8: 8n,
  u8: 8n,
  i16: 16n,
  u16: 16n,
  i32: 32n,
  u32: 32n,
  i64: 64n,
  u64: 64n,
};

function storeInt(dv: DataView, pos: number, type: NumericType, v: bigint, le: boolean): void {
  const bits = BigInt.asUintN(Number(WIDTH_BITS[type]!), v);
  switch (type) {
    case 'i8':
    case 'u8':
      dv.setUint8(pos, Number(bits));
      break;
    case 'i16':
    case 'u16':
      dv.setUint16(pos, Number(bits), le);
      break;
    case 'i32':
    case 'u32':
      dv.setUint32(pos, Number(bits), le);
      break;
    default:
      dv.setBigUint64(pos, bits, le);
  }
}

export function genJs(
  buf: Uint8Array,
  firstRecord: number,
  records: number,
  recordSize: number,
  fields: GenField[],
  seed: bigint,
): void {
  buf.fill(0, 0, records * recordSize);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const s = BigInt.asUintN(64, seed);
  for (let i = 0; i < records; i++) {
    const r = BigInt(firstRecord + i);
    const base = i * recordSize;
    fields.forEach((f, j) => {
      const key = s ^ ((r * GOLDEN) & M64) ^ ((BigInt(j + 1) * C1) & M64);
      const u = (k: number) => splitmix64((key + BigInt(k) * GOLDEN) & M64);
      const unit = (k: number) => Number(u(k) >> 11n) * 2 ** -53;
      const pos = base + f.offset;
      const le = !f.bigEndian;
      if (f.type === 'bytes') {
        for (let b = 0, k = 0; b < f.size; k++) {
          let w = u(k);
          for (let q = 0; q < 8 && b < f.size; q++, b++) {
            buf[pos + b] = Number(w & 0xffn);
            w >>= 8n;
          }
        }
        return;
      }
      const d = f.dist!;
      if (isFloat(f.type)) {
        let v: number;
        switch (d.kind) {
          case 'uniform':
            v = (d.lo as number) + ((d.hi as number) - (d.lo as number)) * unit(0);
            break;
          case 'normal': {
            const z = (unit(0) + unit(1) + unit(2) + unit(3) - 2.0) * SQRT3;
            v = d.mean + d.sd * z;
            break;
          }
          case 'seq':
            v = (d.start as number) + Number(r) * (d.step as number);
            break;
          case 'const':
            v = d.value as number;
            break;
        }
        if (f.type === 'f32') dv.setFloat32(pos, v, le);
        else dv.setFloat64(pos, v, le);
        return;
      }
      let v: bigint;
      switch (d.kind) {
        case 'uniform': {
          const span = BigInt.asUintN(64, (d.hi as bigint) - (d.lo as bigint) + 1n);
          v = (d.lo as bigint) + (span === 0n ? u(0) : u(0) % span);
          break;
        }
        case 'normal': {
          const z = (unit(0) + unit(1) + unit(2) + unit(3) - 2.0) * SQRT3;
          const x = Math.floor(d.mean + d.sd * z + 0.5);
          const [min, max] = INT_RANGE[f.type as keyof typeof INT_RANGE];
          // clamp in double space first, then exactly
          v = x <= Number(min) ? min : x >= Number(max) ? max : BigInt(x);
          if (v < min) v = min;
          if (v > max) v = max;
          break;
        }
        case 'seq':
          v = (d.start as bigint) + r * (d.step as bigint);
          break;
        case 'const':
          v = d.value as bigint;
          break;
      }
      storeInt(dv, pos, f.type, v, le);
    });
  }
}
