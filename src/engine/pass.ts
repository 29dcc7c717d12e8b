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
  write(bytes: Uint8Array): boolean | void;
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
  if (e.code === 'EFILECHANGED') return runtime(`the file changed while it was being read (${e.message}); results discarded`);
  return runtime(`chunk ${d.index} failed: ${e.message}`);
}

export function runPass(input: PassInput): Promise<PassResult> {
  const { pool, plan, op, spec, ctl, output } = input;
  const feed = input.feed ?? planFeed(plan);
  let ended = false;
  const kept: unknown[] = [];
  const fold = input.keepChunks ? null : openFold(op, spec);
  const chunkMs: number[] = [];
  const ready = new Map<number, ChunkDone>();
  let next = 0;
  let submitted = 0;
  let inflight = 0;
  let failure: Error | null = null;
  let blocked = false;

  return new Promise<PassResult>((resolve, reject) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      const cancelled = !ended || next < submitted;
      if (!failure && fold && !cancelled) {
        fold.state().then((partial) => resolve({ partial, fold, chunkMs, cancelled }), (e: Error) => {
          fold.close();
          reject(e);
        });
        return;
      }
      fold?.close();
      if (failure) reject(failure);
      else resolve({ partial: kept, fold: null, chunkMs, cancelled });
    };
    const fail = (e: Error) => {
      failure ??= e;
      ctl.cancel();
    };
    // a fold in another thread reports a failed merge later: stop dispatching then
    fold?.onError((e) => {
      fail(e);
      pump();
    });
    const inFlight = new Map<number, FeedChunk>();
    const onDone = (d: ChunkDone) => {
      inflight--;
      const c = inFlight.get(d.index);
      inFlight.delete(d.index);
      if (c) feed.release?.(c);
      if (d.error) fail(taskError(d));
      else if (!d.cancelled) {
        ready.set(d.index, d);
        try {
          for (let r = ready.get(next); r; r = ready.get(next)) {
            ready.delete(next);
            if (fold) fold.add(r.partial);
            else kept.push(r.partial);
            if (r.output && output && output.write(r.output) === false && output.drained && !blocked) {
              blocked = true;
              // Either way the pass goes on: to the next chunks, or (on a write error) to its end.
              const unblock = (e?: Error) => {
                blocked = false;
                if (e) fail(e);
                pump();
              };
              output.drained().then(() => unblock(), unblock);
            }
            chunkMs.push(r.ms);
            next++;
          }
        } catch (e) {
          fail(e as Error);
        }
      }
      pump();
    };
    const onCrash = (e: unknown) => {
      inflight--;
      inFlight.clear();
      // piscina may reject with something that is not an Error (no message at all)
      const why = e instanceof Error && e.message ? e.message : String(e);
      fail(runtime(`a worker crashed: ${why}`));
      pump();
    };
    const pump = () => {
      if (feed.error) fail(feed.error);
      while (!ended && submitted - next < input.window && !blocked && !failure && !ctl.cancelled()) {
        const c = feed.take();
        if (c === 'later') break;
        if (c === 'end') {
          ended = true;
          break;
        }
        submitted++;
        const task: ChunkTask = {
          kind: 'chunk', file: input.file, op: op.name, spec, backend: input.backend, recordSize: plan.recordSize,
          ctl: ctl.sab, wantOutput: output !== undefined, index: c.index, offset: c.offset, firstRecord: c.firstRecord, records: c.records,
          ...(c.buffer ? { buffer: c.buffer } : {}),
        };
        inFlight.set(c.index, c);
        inflight++;
        (pool.run(task) as Promise<ChunkDone>).then(onDone, onCrash);
      }
      const stopped = ended || failure !== null || ctl.cancelled();
      if (inflight === 0 && !blocked && stopped) finish();
    };
    feed.wake = pump;
    pump();
  });
}
