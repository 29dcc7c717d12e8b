// One reducing kernel (hist, a --where count or mask, framestats, histogram) over a chunk's records on a
// WebGPU device: the records go up as they are (raw bytes, the shader reads its fields at their
// offsets), in batches of whole records; each batch's small result (counts, mask words, per-frame sums)
// comes back and is handed to `take` in order. Two buffer sets alternate, so one batch uploads and
// computes while the previous one is read back; buffers are made once and reused. Under --max-memory a
// batch holds as many records as both sets (and the table) fit in the device's share (bytesFor).
import { type BufferTally, largestFitting } from './tally.js';

/** What a kernel needs from the runner. Its shader binds src (0), dst (1), params {n} (2), table (3). */
export interface BatchKernel {
  source: string;
  /** read-only constants (thresholds); at least one word */
  table: Uint32Array;
  /** workgroups for a batch of n records */
  groups(n: number): number;
  /** u32 words the kernel writes (zeroed before each batch) for n records */
  outWords(n: number): number;
}

interface BufferSet {
  src: GPUBuffer;
  dst: GPUBuffer;
  read: GPUBuffer;
  params: GPUBuffer;
  group: GPUBindGroup;
  pending: Promise<void> | null;
}

/** Target bytes of records per batch. */
const BATCH_BYTES = 32 * 1024 * 1024;
const MAX_GROUPS = 65535;
const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

export class BatchRunner {
  private readonly pipeline: GPUComputePipeline;
  private readonly table: GPUBuffer;
  private sets: BufferSet[] = [];
  private setRecords = 0;

  constructor(
    private readonly device: GPUDevice,
    layout: GPUPipelineLayout,
    private readonly kernel: BatchKernel,
    private readonly tally: BufferTally,
  ) {
    const module = device.createShaderModule({ code: kernel.source });
    this.pipeline = device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' } });
    this.table = tally.create({
      size: align4(kernel.table.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(this.table, 0, kernel.table as Uint32Array<ArrayBuffer>);
  }

  /** Device bytes with batches of `records` records: the table and both buffer sets (as bufferSet makes them). */
  bytesFor(records: number, recordSize: number): number {
    const out = align4(this.kernel.outWords(records) * 4);
    return align4(this.kernel.table.byteLength) + 2 * (align4(records * recordSize) + 2 * out + 16);
  }

  private bufferSet(records: number, recordSize: number): BufferSet {
    const d = this.device;
    const t = this.tally;
    const src = t.create({
      size: align4(records * recordSize),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const outBytes = align4(this.kernel.outWords(records) * 4);
    const dst = t.create({
      size: outBytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const read = t.create({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const params = t.create({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const group = d.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [src, dst, params, this.table].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { src, dst, read, params, group, pending: null };
  }

  /** Buffer sets for batches of `records` records of `recordSize` bytes (remade when a chunk needs more, or when a budget wants them smaller). */
  private ensureSets(records: number, recordSize: number, budgeted: boolean): void {
    const want = records * recordSize;
    if (want <= this.setRecords && !(budgeted && want < this.setRecords)) return;
    this.destroySets();
    this.setRecords = records * recordSize;
    this.sets = [this.bufferSet(records, recordSize), this.bufferSet(records, recordSize)];
  }

  private destroySets(): void {
    for (const s of this.sets) for (const b of [s.src, s.dst, s.read, s.params]) this.tally.destroy(b);
    this.sets = [];
    this.setRecords = 0;
  }

  /** The batch's bytes as Dawn takes them: whole aligned words, not a pipe's shared buffer. */
  private static upload(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
    const ok = bytes.byteLength % 4 === 0 && bytes.byteOffset % 4 === 0 && !(bytes.buffer instanceof SharedArrayBuffer);
    if (ok) return bytes as Uint8Array<ArrayBuffer>;
    const copy = new Uint8Array(align4(bytes.byteLength));
    copy.set(bytes);
    return copy;
  }

  private encode(set: BufferSet, n: number): void {
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(set.dst);
    this.device.queue.writeBuffer(set.params, 0, new Uint32Array([n, 0, 0, 0]));
    const groups = Math.max(1, this.kernel.groups(n));
    const pass = enc.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, set.group);
    pass.dispatchWorkgroups(Math.min(groups, MAX_GROUPS), Math.ceil(groups / MAX_GROUPS));
    pass.end();
    enc.copyBufferToBuffer(set.dst, 0, set.read, 0, align4(this.kernel.outWords(n) * 4));
    this.device.queue.submit([enc.finish()]);
  }

  /** Records per batch: the default target, or fewer so that bytesFor fits `maxBytes` (at least 1: the caller checked it fits). */
  private batchRecords(records: number, recordSize: number, maxBytes?: number): number {
    const per = Math.max(1, Math.min(records, Math.floor(BATCH_BYTES / recordSize)));
    if (maxBytes === undefined) return per;
    return Math.max(
      1,
      largestFitting(per, maxBytes, (n) => this.bytesFor(n, recordSize)),
    );
  }

  /**
   * Every record of `bytes` through the kernel; `take(words, first, n)` gets each batch's result in order.
   * `maxBytes`: the device's share of --max-memory, which this runner's buffers stay within.
   */
  async run(
    bytes: Uint8Array,
    records: number,
    recordSize: number,
    take: (words: Uint32Array, first: number, n: number) => void,
    maxBytes?: number,
  ): Promise<void> {
    const per = this.batchRecords(records, recordSize, maxBytes);
    this.ensureSets(per, recordSize, maxBytes !== undefined);
    let order = Promise.resolve();
    for (let first = 0, b = 0; first < records; first += per, b++) {
      const set = this.sets[b % 2]!;
      if (set.pending) await set.pending;
      const n = Math.min(per, records - first);
      const at = first * recordSize;
      this.device.queue.writeBuffer(set.src, 0, BatchRunner.upload(bytes.subarray(at, at + n * recordSize)));
      this.encode(set, n);
      const words = this.kernel.outWords(n);
      const mapped = set.read.mapAsync(GPUMapMode.READ, 0, align4(words * 4));
      order = order.then(async () => {
        await mapped;
        take(new Uint32Array(set.read.getMappedRange(0, align4(words * 4)), 0, words), first, n);
        set.read.unmap();
      });
      set.pending = order;
      // a failed batch rejects run() through the awaits; the chain itself must not go unhandled
      order.catch(() => {});
    }
    await order;
    for (const s of this.sets) s.pending = null;
  }

  destroy(): void {
    this.destroySets();
    this.tally.destroy(this.table);
  }
}
