// Tasks run one at a time on the main thread, one per turn of the event loop: the inline runner
// (engine/inline.ts) and the GPU runner (gpu/runner.ts) both queue their chunks this way. Between two
// tasks the event loop runs timers and I/O (an immediate queued from an immediate runs after the poll
// phase), so signals, heartbeats and progress are served at least once per chunk.
import type { ChunkDone, Task } from './protocol.js';

interface Job<T extends Task> {
  task: T;
  resolve: (d: ChunkDone) => void;
}

export interface TurnQueue<T extends Task> {
  /** queue `task`; resolves with what runOne gave it (runOne must not reject) */
  push(task: T): Promise<ChunkDone>;
  /** end every task still queued as cancelled (the pass was abandoned) */
  cancelAll(): void;
}

export function turnQueue<T extends Task>(runOne: (task: T) => Promise<ChunkDone>): TurnQueue<T> {
  const queue: Job<T>[] = [];
  let busy = false;
  const step = async () => {
    const job = queue.shift();
    if (!job) {
      busy = false;
      return;
    }
    job.resolve(await runOne(job.task));
    setImmediate(step);
  };
  return {
    push(task) {
      return new Promise<ChunkDone>((resolve) => {
        queue.push({ task, resolve });
        if (!busy) {
          busy = true;
          setImmediate(step);
        }
      });
    },
    cancelAll() {
      for (const job of queue.splice(0)) {
        const index = job.task.kind === 'gen' ? job.task.firstRecord : job.task.index;
        job.resolve({ index, ms: 0, cancelled: true });
      }
    },
  };
}
