// The canonical key of a group: each key field in order, integers big-endian with the sign bit flipped
// (so bytewise order is numeric order), bytes<N> as stored. How to build it from a record, compare two,
// and turn one back into JSON values.
import { usage } from '../../../errors.js';
import { exactJson } from '../exact.js';
import type { GroupbySpec, GroupKeySpec, KeyValue } from './types.js';

export const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** For each canonical key byte: the record byte it comes from and the bits to flip. */
export function keyBytes(keys: GroupKeySpec[]): { src: number; flip: number }[] {
  const out: { src: number; flip: number }[] = [];
  for (const k of keys) {
    const signed = k.kind === 'int' && k.type!.startsWith('i');
    for (let j = 0; j < k.size; j++) {
      const src = k.kind === 'int' && !k.bigEndian ? k.offset + k.size - 1 - j : k.offset + j;
      out.push({ src, flip: j === 0 && signed ? 0x80 : 0 });
    }
  }
  return out;
}

/** The JSON values of a canonical key: integers exact (decimal strings beyond 2^53), bytes as hex. */
export function decodeKey(keys: GroupKeySpec[], hex: string): KeyValue[] {
  const out: KeyValue[] = [];
  let pos = 0;
  for (const k of keys) {
    const part = hex.slice(pos, pos + 2 * k.size);
    pos += 2 * k.size;
    if (k.kind === 'bytes') {
      out.push(part);
    } else if (k.size <= 4) {
      const v = parseInt(part, 16);
      out.push(k.type!.startsWith('i') ? v - 2 ** (8 * k.size - 1) : v);
    } else {
      let v = BigInt(`0x${part}`);
      if (k.type!.startsWith('i')) v -= 1n << BigInt(8 * k.size - 1);
      out.push(exactJson(v));
    }
  }
  return out;
}

/** Bytes in a canonical key. */
export function keyWidth(spec: GroupbySpec): number {
  return spec.keys.reduce((s, k) => s + k.size, 0);
}

/** Order of the i-th key of a and the j-th of b (w bytes each). */
export function compareKeys(a: Uint8Array, i: number, b: Uint8Array, j: number, w: number): number {
  for (let x = i * w, y = j * w, end = x + w; x < end; x++, y++) {
    const d = a[x]! - b[y]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** --max-groups passed: the one error, with where it happened. */
export function overflowError(spec: GroupbySpec, where: string): Error {
  return usage(
    `--max-groups ${spec.maxGroups} exceeded: more than ${spec.maxGroups} distinct keys (${spec.keys.map((k) => k.name).join(',')}) ${where}; ` +
      'raise --max-groups or group by fewer/coarser keys',
  );
}
