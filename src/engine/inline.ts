// One worker's worth of chunks run on the main thread itself, one chunk per turn of the event loop.
// With a single worker, a worker thread buys nothing: the main thread would only wait for it, and
// booting it (its own V8 isolate and Node environment) costs ~40-50 ms of CPU per process — which a
// host running one bigproc per core (or four processes sharing a manifest on one machine) pays once
// per process. Between two chunks the event loop runs timers and I/O, so signals, lease heartbeats,
// progress and manifest queries are served at least once per chunk (a 64 MiB chunk is tens of
// milliseconds of native kernel).
// Not for user kernels (a module that loops forever would leave Ctrl-C unserved) nor for stdin (the
// main thread reads the pipe while a worker computes; here they would take turns): see runsInline.
import { createTaskHost, type TaskHost } from './tasks.js';
import type { Task, TaskRunner } from './protocol.js';
import { turnQueue } from './turn-queue.js';

export function inlineRunner(): TaskRunner {
  const host: TaskHost = createTaskHost();
  // host.run never rejects: a failing chunk comes back as ChunkDone.error, as from a worker.
  const queue = turnQueue<Task>((task) => host.run(task));
  let closed = false;

  return {
    run(task) {
      if (closed) return Promise.reject(new Error('the inline runner is closed'));
      return queue.push(task);
    },
    async destroy() {
      closed = true;
      // Chunks still queued (the pass was abandoned) end as cancelled, as a destroyed pool's would fail.
      queue.cancelAll();
      host.closeAll();
    },
  };
}
