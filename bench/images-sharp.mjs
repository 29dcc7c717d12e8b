// sharp (libvips) doing one of bench/images.mjs's ops on the same raw frames, as its own process:
// raw frames in, raw frames out, written at each frame's offset in OUT and fsynced at the end (as
// bigproc's --out), with INFLIGHT frames in flight
// (each frame is read, run through sharp and written independently). Prints one JSON line:
// { seconds, frames, concurrency }. Run by bench/images.mjs, interleaved with bigproc.
//
//   node bench/images-sharp.mjs FILE WxHxC OP OUT [INFLIGHT=2] [CONCURRENCY=0 (libvips default)]
//
// OP: grey (toColourspace('b-w'), one channel out), blur:2 (blur(2)), convolve3 (the 3×3
// 1,2,1,2,4,2,1,2,1/16 kernel), sobel2 (the two-kernel equivalent of sobel: the Sobel x and y kernels
// each as one convolve of the frame — sharp has no gradient magnitude, so this is the least it would do),
// copy (the raw frame through libvips and back, no op: the floor of its pipeline).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sharp = require('sharp');
const [file, shapeText, op, outPath, inflightText = '2', concurrencyText = '0'] = process.argv.slice(2);
const [W, H, C] = shapeText.split('x').map(Number);
const FRAME = W * H * C;
sharp.cache(false);
if (Number(concurrencyText) > 0) sharp.concurrency(Number(concurrencyText));

const SOBEL_X = { width: 3, height: 3, kernel: [-1, 0, 1, -2, 0, 2, -1, 0, 1], scale: 1, offset: 128 };
const SOBEL_Y = { width: 3, height: 3, kernel: [-1, -2, -1, 0, 0, 0, 1, 2, 1], scale: 1, offset: 128 };
const raw = (buf) => sharp(buf, { raw: { width: W, height: H, channels: C } });

/** One frame through the op: the output bytes (one buffer, or two for sobel2). */
async function run(buf) {
  switch (op) {
    case 'copy':
      return [await raw(buf).raw().toBuffer()];
    case 'grey':
      return [await raw(buf).toColourspace('b-w').raw().toBuffer()];
    case 'blur:2':
      return [await raw(buf).blur(2).raw().toBuffer()];
    case 'convolve3':
      return [
        await raw(buf)
          .convolve({ width: 3, height: 3, kernel: [1, 2, 1, 2, 4, 2, 1, 2, 1], scale: 16 })
          .raw()
          .toBuffer(),
      ];
    case 'sobel2':
      return Promise.all([raw(buf).convolve(SOBEL_X).raw().toBuffer(), raw(buf).convolve(SOBEL_Y).raw().toBuffer()]);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

const fd = openSync(file, 'r');
const frames = Math.floor(fstatSync(fd).size / FRAME);
const out = openSync(outPath, 'w');
const t0 = process.hrtime.bigint();
let next = 0;
async function lane() {
  for (let f = next++; f < frames; f = next++) {
    const buf = Buffer.allocUnsafe(FRAME);
    readSync(fd, buf, 0, FRAME, f * FRAME);
    const results = await run(buf);
    let at = 0;
    for (const r of results) {
      writeSync(out, r, 0, r.length, f * r.length * results.length + at);
      at += r.length;
    }
  }
}
await Promise.all(Array.from({ length: Number(inflightText) }, lane));
// durable, as bigproc's --out is (it fsyncs before renaming into place): on a disk this is most of the
// cost of writing 1 GiB, and leaving it out would compare a write to the page cache with one to the disk
fsyncSync(out);
closeSync(out);
closeSync(fd);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ seconds, frames, concurrency: sharp.concurrency() }));
