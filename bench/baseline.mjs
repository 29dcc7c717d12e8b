// The memory-read baseline: map the file and sum it as 64-bit words on all cores — the fastest any
// scan of this file can be on this machine. Run as a whole process, like bigproc itself.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const addonPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'bigproc.node');

if (isMainThread) {
  const file = process.argv[2];
  const threads = Number(process.argv[3] ?? availableParallelism());
  const size = statSync(file).size;
  const per = Math.ceil(size / threads / 8) * 8;
  const parts = await Promise.all(
    Array.from(
      { length: threads },
      (_, i) =>
        new Promise((resolve, reject) => {
          const w = new Worker(fileURLToPath(import.meta.url), {
            workerData: { file, offset: i * per, length: Math.max(0, Math.min(per, size - i * per)) },
          });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const sum = parts.reduce((a, b) => (a + b) & 0xffffffffffffffffn, 0n);
  process.stdout.write(`${JSON.stringify({ bytes: size, threads, sum: sum.toString(16) })}\n`);
} else {
  const addon = require(addonPath);
  const m = new addon.Mapping(workerData.file);
  parentPort.postMessage(addon.readBaseline(m, workerData.offset, Math.floor(workerData.length / 8), 8));
  m.close();
}
