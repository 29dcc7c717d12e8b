// A pipeline's sinks that write records (`"out": "g.npy"` on a sink): each has its own output, written
// in the same pass. The engine carries one output stream per chunk, so a chunk's output is the sinks'
// outputs packed one after another behind their lengths — 8 bytes each (a little-endian f64: exact
// for any length), in sink order — and SinkOutputs splits it back into each sink's target. Each
// target is committed like any --out (temp + rename); a failure or interrupt aborts every one.
import type { OutputTarget } from '../../engine/output.js';

/** The sinks' outputs of one chunk packed into one buffer (an empty array for a sink that wrote nothing). */
export function packOutputs(parts: Uint8Array[]): Uint8Array {
  const head = 8 * parts.length;
  const packed = new Uint8Array(head + parts.reduce((s, p) => s + p.length, 0));
  const dv = new DataView(packed.buffer);
  let at = head;
  for (const [i, p] of parts.entries()) {
    dv.setFloat64(8 * i, p.length, true);
    packed.set(p, at);
    at += p.length;
  }
  return packed;
}

export function unpackOutputs(packed: Uint8Array, count: number): Uint8Array[] {
  const dv = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const parts: Uint8Array[] = [];
  let at = 8 * count;
  for (let i = 0; i < count; i++) {
    const n = dv.getFloat64(8 * i, true);
    parts.push(packed.subarray(at, at + n));
    at += n;
  }
  return parts;
}

export class SinkOutputs implements OutputTarget {
  constructor(private readonly targets: OutputTarget[]) {}

  /** One chunk's packed outputs; false when any sink's target is full. */
  write(packed: Uint8Array): boolean {
    let room = true;
    for (const [i, part] of unpackOutputs(packed, this.targets.length).entries()) {
      if (part.length > 0 && this.targets[i]!.write(part) === false) room = false;
    }
    return room;
  }

  async drained(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.drained?.()));
  }

  async commit(): Promise<void> {
    try {
      for (const t of this.targets) await t.commit();
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  abort(): void {
    for (const t of this.targets) t.abort();
  }
}
