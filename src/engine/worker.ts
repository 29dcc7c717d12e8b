// The worker thread's entry point (dist/worker.cjs): one task host for the thread's life.
import { createTaskHost } from './tasks.js';
import type { ChunkDone, Task } from './protocol.js';

const host = createTaskHost();

export default async function handle(task: Task): Promise<ChunkDone> {
  const r = await host.run(task);
  // Hand record bytes over without copying when they own their whole ArrayBuffer. piscina's main
  // module is imported only then: loading it costs ~10 ms of every worker's start-up otherwise.
  const out = r.output;
  // (A shared buffer the pass lent for the output is shared, not moved: it cannot be transferred.)
  if (
    out &&
    !(out.buffer instanceof SharedArrayBuffer) &&
    out.byteOffset === 0 &&
    out.byteLength === out.buffer.byteLength &&
    out.byteLength > 0
  ) {
    const { move, transferableSymbol, valueSymbol } = await import('piscina');
    return move({ [transferableSymbol]: [out.buffer], [valueSymbol]: r } as never) as unknown as ChunkDone;
  }
  return r;
}
