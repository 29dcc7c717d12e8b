// One pass over the file: chunks go to the pool (a bounded window ahead of the merge point), partial
// results come back in any order and are merged strictly in chunk order, so the answer is the same for
// any worker count. Record bytes for --out are written in the same order.
import type { AnyOp } from '../ops/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import type { Control } from './control.js';
import type { Backend, ChunkDone, ChunkTask } from './protocol.js';
import type { TaskRunner } from './protocol.js';
import { BigprocError, EXIT, runtime } from '../errors.js';
import { openFold, type Fold } from './fold.js';

export interface OutputSink {
  /** false: the sink is full; no more chunks are started until drained() resolves */
  write(bytes: Uint8Array): boolean | undefined;
  drained?(): Promise<void>;
}

/** One chunk ready to dispatch: a byte range of the mapped file, or a block held in a shared buffer. */
export interface FeedChunk {
  index: number;
  offset: number;
  /** 0-based record number in the file of the chunk's first record */
  firstRecord: number;
  records: number;
  buffer?: SharedArrayBuffer;
}

/** Where chunks come from: the plan of a mapped file, or blocks read from a pipe as they arrive. */
export interface ChunkFeed {
  /** a chunk to dispatch now, 'later' when one will come (the feed then calls wake), or 'end' */
  take(): FeedChunk | 'later' | 'end';
  /** the chunk's task has finished: its buffer may be reused */
  release?(chunk: FeedChunk): void;
  /** set by the pass: the feed calls it when take() may have something new */
  wake?: () => void;
  /** a failure of the feed itself (e.g. a read error) */
  error?: Error | null;
}

export function planFeed(plan: ChunkPlan): ChunkFeed {
  let i = 0;
  return { take: () => (i < plan.chunks.length ? plan.chunks[i++]! : 'end') };
}

/**
 * Chunks in flight beyond the merge point for `threads` threads: fewer when each carries output bytes
 * (text output can be several times its chunk), to bound the memory held for ordering.
 */
export function chunkWindow(threads: number, writesOutput: boolean): number {
  return threads * (writesOutput ? 2 : 4);
}

export interface PassInput {
  pool: TaskRunner;
  file: string;
  /** the chunk plan, or a feed of chunks (stdin) */
  plan: ChunkPlan;
  feed?: ChunkFeed;
  op: AnyOp;
  spec: unknown;
  backend: Backend;
  ctl: Control;
  output?: OutputSink;
  /** chunks allowed in flight beyond the merge point (bounds memory held for --out) */
  window: number;
  /**
   * Keep every chunk's partial, in chunk order, instead of merging them: the pass's partial is then
   * that list (see cluster/chunk-partials.ts: the merge of a run split between hosts, for ops whose merge may
   * not be associative).
   */
  keepChunks?: boolean;
}

export interface PassResult {
  /** the folded partial (with keepChunks, the chunks' partials in order) */
  partial: unknown;
  /** the fold that made it, for its result (null with keepChunks); the caller closes it */
  fold: Fold | null;
  chunkMs: number[];
  cancelled: boolean;
}

export class InterruptedError extends BigprocError {
  constructor() {
    super('interrupted', EXIT.interrupted);
  }
}

function taskError(d: ChunkDone): BigprocError {
  const e = d.error!;
  if (e.code === 'EFILECHANGED')
    return runtime(`the file changed while it was being read (${e.message}); results discarded`);
  return runtime(`chunk ${d.index} failed: ${e.message}`);
}

/**
 * The state of one pass: what was submitted, what came back out of order, how far the in-order merge
 * got. Chunks are dispatched by pump() while the window allows; each finished chunk is merged (and its
 * output written) in chunk order; the pass settles once nothing is in flight and nothing more will be.
 */
class Pass {
  private readonly feed: ChunkFeed;
  private readonly fold: Fold | null;
  private readonly kept: unknown[] = [];
  private readonly chunkMs: number[] = [];
  private readonly ready = new Map<number, ChunkDone>();
  private readonly inFlight = new Map<number, FeedChunk>();
  /**
   * Output buffers lent to chunks (OpDef.outputBytes) by chunk index — by index, since the buffer that
   * comes back from a worker is a new object over the same memory — and those free to lend again.
   */
  private readonly lent = new Map<number, SharedArrayBuffer>();
  private readonly spare: SharedArrayBuffer[] = [];
  private ended = false;
  private next = 0;
  private submitted = 0;
  private inflight = 0;
  private failure: Error | null = null;
  private blocked = false;
  private finished = false;

  constructor(
    private readonly input: PassInput,
    private readonly resolve: (r: PassResult) => void,
    private readonly reject: (e: Error) => void,
  ) {
    this.feed = input.feed ?? planFeed(input.plan);
    this.fold = input.keepChunks ? null : openFold(input.op, input.spec);
    // a fold in another thread reports a failed merge later: stop dispatching then
    this.fold?.onError((e) => {
      this.fail(e);
      this.pump();
    });
    this.feed.wake = () => this.pump();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.input.ctl.cancel();
  }

  /** Dispatch chunks while the window allows; settle once nothing is in flight and nothing more will be. */
  pump(): void {
    const { input, feed } = this;
    if (feed.error) this.fail(feed.error);
    while (
      !this.ended &&
      this.submitted - this.next < input.window &&
      !this.blocked &&
      !this.failure &&
      !input.ctl.cancelled()
    ) {
      const c = feed.take();
      if (c === 'later') break;
      if (c === 'end') {
        this.ended = true;
        break;
      }
      this.dispatch(c);
    }
    const stopped = this.ended || this.failure !== null || input.ctl.cancelled();
    if (this.inflight === 0 && !this.blocked && stopped) this.finish();
  }

  private dispatch(c: FeedChunk): void {
    const { input } = this;
    this.submitted++;
    const task: ChunkTask = {
      kind: 'chunk',
      file: input.file,
      op: input.op.name,
      spec: input.spec,
      backend: input.backend,
      recordSize: input.plan.recordSize,
      ctl: input.ctl.sab,
      wantOutput: input.output !== undefined,
      index: c.index,
      offset: c.offset,
      firstRecord: c.firstRecord,
      records: c.records,
      ...(c.buffer ? { buffer: c.buffer } : {}),
    };
    // (only native() writes into a lent buffer; the JS path makes its own output)
    const lends = input.output !== undefined && input.backend === 'native';
    const outBytes = lends ? (input.op.outputBytes?.(input.spec, c.records) ?? 0) : 0;
    if (outBytes > 0) task.outBuffer = this.lend(c.index, outBytes);
    this.inFlight.set(c.index, c);
    this.inflight++;
    (input.pool.run(task) as Promise<ChunkDone>).then(
      (d) => this.onDone(d),
      (e) => this.onCrash(e),
    );
  }

  private onDone(d: ChunkDone): void {
    this.inflight--;
    const c = this.inFlight.get(d.index);
    this.inFlight.delete(d.index);
    if (c) this.feed.release?.(c);
    if (d.error) this.fail(taskError(d));
    else if (!d.cancelled) {
      this.ready.set(d.index, d);
      try {
        this.mergeReady();
      } catch (e) {
        this.fail(e as Error);
      }
    }
    this.pump();
  }

  /** Merge (and write) every chunk that is next in order. */
  private mergeReady(): void {
    for (let r = this.ready.get(this.next); r; r = this.ready.get(this.next)) {
      this.ready.delete(this.next);
      if (this.fold) this.fold.add(r.partial);
      else this.kept.push(r.partial);
      // undefined: written synchronously (OutputSink), so nothing holds the chunk's lent buffer
      if (!r.output || this.write(r.output) === undefined) this.giveBack(r.index);
      this.chunkMs.push(r.ms);
      this.next++;
    }
  }

  /** A spare output buffer of at least `bytes` bytes (or a new one), lent to chunk `index`. */
  private lend(index: number, bytes: number): SharedArrayBuffer {
    const i = this.spare.findIndex((b) => b.byteLength >= bytes);
    const b = i >= 0 ? this.spare.splice(i, 1)[0]! : new SharedArrayBuffer(bytes);
    this.lent.set(index, b);
    return b;
  }

  /** Chunk `index` is merged and its output, if any, written synchronously: its buffer is free again. */
  private giveBack(index: number): void {
    const b = this.lent.get(index);
    if (!b) return;
    this.lent.delete(index);
    this.spare.push(b);
  }

  /**
   * A full sink pauses dispatching until it drains; either way the pass goes on (or, on a write error,
   * ends). Returns what the sink's write returned (undefined: the bytes were written synchronously).
   */
  private write(bytes: Uint8Array): boolean | undefined {
    const output = this.input.output;
    const full = output?.write(bytes);
    if (full !== false || !output?.drained || this.blocked) return full;
    this.blocked = true;
    const unblock = (e?: Error) => {
      this.blocked = false;
      if (e) this.fail(e);
      this.pump();
    };
    output.drained().then(() => unblock(), unblock);
    return full;
  }

  private onCrash(e: unknown): void {
    this.inflight--;
    this.inFlight.clear();
    // piscina may reject with something that is not an Error (no message at all)
    const why = e instanceof Error && e.message ? e.message : String(e);
    this.fail(runtime(`a worker crashed: ${why}`));
    this.pump();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const { fold, chunkMs } = this;
    const cancelled = !this.ended || this.next < this.submitted;
    if (!this.failure && fold && !cancelled) {
      fold.state().then(
        (partial) => this.resolve({ partial, fold, chunkMs, cancelled }),
        (e: Error) => {
          fold.close();
          this.reject(e);
        },
      );
      return;
    }
    fold?.close();
    if (this.failure) this.reject(this.failure);
    else this.resolve({ partial: this.kept, fold: null, chunkMs, cancelled });
  }
}

export function runPass(input: PassInput): Promise<PassResult> {
  return new Promise<PassResult>((resolve, reject) => new Pass(input, resolve, reject).pump());
}
