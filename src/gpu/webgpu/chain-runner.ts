// One image chain on a WebGPU device: its pipelines and buffers, made once per spec and reused for
// every chunk. A chunk's frames go through in batches (several frames per dispatch); two buffer sets
// alternate, so one batch uploads and computes while the previous one is read back. Under --max-memory
// a batch holds as many frames as both sets (and the tables) fit in the device's share (bytesFor).
import { type BufferTally, largestFitting } from './tally.js';
import { frameBytes, outShape, type ImageChain } from '../../image/steps.js';
import { chainPasses, peakFrameBytes, type GpuPass } from './passes.js';
import type { ShaderKind } from './wgsl.js';

/** Target bytes in the largest buffer of a batch: several frames per dispatch, bounded memory. */
const BATCH_BYTES = 16 * 1024 * 1024;
const WORKGROUP = 64;
const MAX_GROUPS = 65535;

interface BufferSet {
  /** ping-pong frame buffers: the batch's input goes to a[0] */
  a: [GPUBuffer, GPUBuffer];
  read: GPUBuffer;
  params: GPUBuffer[];
  groups: GPUBindGroup[];
  pending: Promise<void> | null;
}

const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

export class ChainRunner {
  private readonly passes: GpuPass[];
  private readonly pipelines: GPUComputePipeline[];
  private readonly tables: GPUBuffer[];
  /** made on the first chunk, sized for its batches, remade larger if a later chunk needs it */
  private sets: BufferSet[] = [];
  private setFrames = 0;
  readonly framesPerBatch: number;
  private readonly peak: number;
  private readonly inFrame: number;
  private readonly outFrame: number;

  constructor(
    private readonly device: GPUDevice,
    chain: ImageChain,
    pipelineFor: (kind: ShaderKind) => GPUComputePipeline,
    private readonly tally: BufferTally,
  ) {
    this.passes = chainPasses(chain);
    this.pipelines = this.passes.map((p) => pipelineFor(p.kind));
    this.inFrame = frameBytes(chain.shapes[0]!);
    this.outFrame = frameBytes(outShape(chain));
    this.peak = peakFrameBytes(chain, this.passes);
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.framesPerBatch = Math.max(1, Math.floor(Math.min(BATCH_BYTES, limit) / this.peak));
    this.tables = this.passes.map((p) => this.upload(p.table, GPUBufferUsage.STORAGE));
  }

  /** Device bytes with batches of `frames` frames: the tables and both buffer sets (as bufferSet makes them). */
  bytesFor(frames: number): number {
    const tables = this.passes.reduce((sum, p) => sum + align4(p.table.byteLength), 0);
    const set = 2 * align4(frames * this.peak) + align4(frames * this.outFrame) + 48 * this.passes.length;
    return tables + 2 * set;
  }

  /** Two buffer sets holding batches of `frames` frames (small chunks do not pay for full-size batches; a budget may want them smaller). */
  private ensureSets(frames: number, budgeted: boolean): void {
    if (frames <= this.setFrames && !(budgeted && frames < this.setFrames)) return;
    this.destroySets();
    this.setFrames = frames;
    this.sets = [this.bufferSet(frames), this.bufferSet(frames)];
  }

  private destroySets(): void {
    for (const s of this.sets) {
      for (const b of [...s.a, s.read, ...s.params]) this.tally.destroy(b);
    }
    this.sets = [];
  }

  private upload(data: Uint32Array, usage: number): GPUBuffer {
    const buf = this.tally.create({ size: align4(data.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buf, 0, data as Uint32Array<ArrayBuffer>);
    return buf;
  }

  private bufferSet(frames: number): BufferSet {
    const size = align4(frames * this.peak);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const a: [GPUBuffer, GPUBuffer] = [this.tally.create({ size, usage }), this.tally.create({ size, usage })];
    const read = this.tally.create({
      size: align4(frames * this.outFrame),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const params = this.passes.map(() =>
      this.tally.create({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
    );
    const groups = this.passes.map((_, i) =>
      this.device.createBindGroup({
        layout: this.pipelines[i]!.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: a[i % 2]! } },
          { binding: 1, resource: { buffer: a[(i + 1) % 2]! } },
          { binding: 2, resource: { buffer: params[i]! } },
          { binding: 3, resource: { buffer: this.tables[i]! } },
        ],
      }),
    );
    return { a, read, params, groups, pending: null };
  }

  /** Encode one batch of `frames` frames already in set.a[0]; the result is copied to set.read. */
  private encode(set: BufferSet, frames: number): void {
    const enc = this.device.createCommandEncoder();
    this.passes.forEach((p, i) => {
      const s = p.inShape;
      const o = p.outShape;
      const words = new Uint32Array(12);
      words.set([s.width, s.height, s.channels, o.width, o.height, o.channels, frames, ...p.args]);
      this.device.queue.writeBuffer(set.params[i]!, 0, words);
      const values = o.width * o.height * o.channels * frames;
      const invocations = p.outBytes === 4 ? values : Math.ceil(values / 4);
      const groups = Math.max(1, Math.ceil(invocations / WORKGROUP));
      const pass = enc.beginComputePass();
      pass.setPipeline(this.pipelines[i]!);
      pass.setBindGroup(0, set.groups[i]!);
      pass.dispatchWorkgroups(Math.min(groups, MAX_GROUPS), Math.ceil(groups / MAX_GROUPS));
      pass.end();
    });
    const last = set.a[this.passes.length % 2]!;
    enc.copyBufferToBuffer(last, 0, set.read, 0, align4(frames * this.outFrame));
    this.device.queue.submit([enc.finish()]);
  }

  /**
   * Every frame of `bytes` through the chain; the frames out, packed, in order. `maxBytes`: the device's
   * share of --max-memory, which this runner's buffers stay within (the caller checked one frame fits).
   */
  async run(bytes: Uint8Array, records: number, recordSize: number, maxBytes?: number): Promise<Uint8Array> {
    const out = new Uint8Array(records * this.outFrame);
    let per = Math.min(this.framesPerBatch, Math.max(1, records));
    if (maxBytes !== undefined)
      per = Math.max(
        1,
        largestFitting(per, maxBytes, (f) => this.bytesFor(f)),
      );
    this.ensureSets(per, maxBytes !== undefined);
    for (let first = 0, b = 0; first < records; first += per, b++) {
      const set = this.sets[b % 2]!;
      if (set.pending) await set.pending;
      const frames = Math.min(per, records - first);
      const input = this.packFrames(bytes, first, frames, recordSize);
      this.device.queue.writeBuffer(set.a[0], 0, input as Uint8Array<ArrayBuffer>);
      this.encode(set, frames);
      const at = first * this.outFrame;
      const length = frames * this.outFrame;
      set.pending = set.read.mapAsync(GPUMapMode.READ, 0, align4(length)).then(() => {
        out.set(new Uint8Array(set.read.getMappedRange(0, align4(length)), 0, length), at);
        set.read.unmap();
      });
    }
    await Promise.all(this.sets.map((s) => s.pending));
    for (const s of this.sets) s.pending = null;
    return out;
  }

  /** The batch's frames as one padded block (frames are records; a record may hold more than its frame). */
  private packFrames(bytes: Uint8Array, first: number, frames: number, recordSize: number): Uint8Array {
    const padded = align4(frames * this.inFrame);
    const from = first * recordSize;
    // Uploaded in place when Dawn can take it as is: whole words, aligned, not a pipe's shared buffer.
    const inPlace =
      recordSize === this.inFrame &&
      padded === frames * this.inFrame &&
      (bytes.byteOffset + from) % 4 === 0 &&
      !(bytes.buffer instanceof SharedArrayBuffer);
    if (inPlace) return bytes.subarray(from, from + frames * recordSize);
    const block = new Uint8Array(padded);
    for (let i = 0; i < frames; i++) {
      const at = (first + i) * recordSize;
      block.set(bytes.subarray(at, at + this.inFrame), i * this.inFrame);
    }
    return block;
  }

  destroy(): void {
    this.destroySets();
    for (const t of this.tables) this.tally.destroy(t);
  }
}
