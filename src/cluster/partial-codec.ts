// Partial results leave the process (a manifest row, a part file of a static shard) as JSON text and
// must come back bit for bit: BigInts, typed arrays, Maps, Sets, Dates, -0, NaN and ±Infinity survive.
// Special values are wrapped in one-key objects whose key starts with '$'; a plain object that happens
// to have such a key is wrapped too, so decoding is unambiguous.

import { dict } from '../keys.js';
import { runtime } from '../errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;

function bytesOf(v: ArrayBufferView): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The objects being encoded, outermost first: one met again is a cycle, which JSON cannot hold. */
const open = new Set<object>();

function enc(v: unknown): Json {
  switch (typeof v) {
    case 'bigint':
      return { $big: v.toString() };
    case 'number':
      if (Number.isNaN(v) || !Number.isFinite(v) || Object.is(v, -0))
        return { $num: Object.is(v, -0) ? '-0' : String(v) };
      return v;
    case 'string':
    case 'boolean':
      return v;
    case 'undefined':
      return { $undef: 1 };
    case 'object': {
      if (v === null) return null;
      if (open.has(v))
        throw runtime(
          'cannot encode a circular partial result: it refers back to itself (partials are stored as JSON, which has no references: states handed between hosts or parts must be trees)',
        );
      open.add(v);
      try {
        return encObject(v);
      } finally {
        open.delete(v);
      }
    }
    default:
      throw runtime(`cannot encode a ${typeof v} in a partial result`);
  }
}

function encObject(v: object): Json {
  if (Array.isArray(v)) return v.map(enc);
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name;
    if (name === 'DataView' || !(name in TYPED)) throw runtime(`cannot encode a ${name} in a partial result`);
    return { $ta: name, b64: bytesOf(v).toString('base64') };
  }
  if (v instanceof ArrayBuffer) return { $ab: Buffer.from(v).toString('base64') };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [enc(k), enc(x)]) };
  if (v instanceof Set) return { $set: [...v].map(enc) };
  if (v instanceof Date) return { $date: enc(v.getTime()) };
  const out: { [k: string]: Json } = dict(); // a kernel's state may use any key, "__proto__" too
  let special = false;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) special = true;
    out[k] = enc(x);
  }
  return special ? { $obj: out } : out;
}

function dec(j: Json): unknown {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(dec);
  const keys = Object.keys(j);
  const tag = keys.find((k) => k.startsWith('$'));
  if (tag === undefined) {
    // fromEntries defines own keys ("__proto__" too) on an ordinary object, as the kernel made it
    return Object.fromEntries(keys.map((k) => [k, dec(j[k]!)]));
  }
  const x = j[tag]!;
  switch (tag) {
    case '$big':
      return BigInt(x as string);
    case '$num':
      return x === '-0' ? -0 : Number(x);
    case '$undef':
      return undefined;
    case '$ta': {
      const Ctor = TYPED[x as TypedName];
      const b = Buffer.from(j.b64 as string, 'base64');
      const copy = new Uint8Array(b.length);
      copy.set(b);
      return new Ctor(copy.buffer as ArrayBuffer, 0, b.length / Ctor.BYTES_PER_ELEMENT);
    }
    case '$ab': {
      const b = Buffer.from(x as string, 'base64');
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    }
    case '$map':
      return new Map((x as Json[][]).map(([k, v]) => [dec(k!), dec(v!)]));
    case '$date':
      return new Date(dec(x) as number);
    case '$set':
      return new Set((x as Json[]).map(dec));
    case '$obj': {
      return Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, dec(v as Json)]));
    }
    default:
      throw new Error(`unknown tag ${tag} in an encoded partial result`);
  }
}

export function encodePartial(v: unknown): string {
  return JSON.stringify(enc(v));
}

export function decodePartial(text: string): unknown {
  return dec(JSON.parse(text) as Json);
}
