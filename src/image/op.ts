// The image op: `--op 'grey|blur:2|sobel'` on frames (--frame WxHxC, or an .npy of shape (N, H, W[, C])
// u8). Map steps run one frame at a time in one pass; the frames go to --out (raw, or .npy), or a
// reduce step at the end (framestats, histogram) turns them into numbers. Registered as `image`;
// getOp() hands it any --op whose stages are all image ops.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkResult, NativeChunkInput, OpDef } from '../ops/types.js';
import type { Layout } from '../layout/types.js';
import { usage } from '../errors.js';
import { isImageChain, parseChain } from './chain.js';
import { applyChain, frameStatsJs, histogramJs } from './oracle.js';
import { formatReduce, mergePartials, reduceResult, type FrameRow, type ImagePartial } from './reduce.js';
import { npyFramesHeader, NpyFramesOutput } from './npy-out.js';
import { imageEvery, imageOut, keptFrames, type ImageFormat, type ImageOut } from './out-format.js';
import { loadedSharp, loadSharp, pngName, PngFramesDir } from './png-out.js';
import { rowSelect, selectRows, type RowSelect } from './frame-rows.js';
import { WHERE_FLAG } from '../ops/lib/where.js';
import { imageKernel } from './native-api.js';
import { keptInChunk } from './every.js';
import { frameBytes, outShape, type ImageChain } from './steps.js';

export interface ImageSpec {
  chain: ImageChain;
  perFrame: boolean;
  /** with --out: its format (not its path, but a PNG directory's: parts of one static run write raw files to different paths) */
  out: ImageOut | null;
  /** --every N: the output keeps frames 0, N, 2N… */
  every: number;
  /** framestats rows kept by --where and ranked by --by/--top-k */
  rows: RowSelect;
  /** the frame count an .npy input promises */
  knownFrames?: number;
}

const EXAMPLE = "--op 'grey|blur:2|sobel'";

function frameShape(layout: Layout, text: string) {
  if (layout.frame) return layout.frame;
  throw usage(
    `--op ${JSON.stringify(text)} works on frames: give --frame WxHxC (e.g. --frame 640x480x3) or an .npy of shape (N, H, W) or (N, H, W, C) u8 (C = 1, 3 or 4)`,
  );
}

/** What a chunk of frames becomes: output bytes (map chains) and reduce values. */
function jsChunk(
  spec: ImageSpec,
  src: Uint8Array,
  records: number,
  recordSize: number,
  wantOutput: boolean,
  firstRecord: number | undefined,
): { values: number[]; output?: Uint8Array } {
  const { chain } = spec;
  const shape = outShape(chain);
  const size = frameBytes(shape);
  if (wantOutput && spec.every > 1) {
    const kept = keptInChunk(spec.every, records, firstRecord);
    const output = new Uint8Array(kept.length * size);
    for (const [k, i] of kept.entries())
      output.set(applyChain(chain, src.subarray(i * recordSize, (i + 1) * recordSize)), k * size);
    return { values: [], output };
  }
  const output = wantOutput ? new Uint8Array(records * size) : undefined;
  const summed = chain.reduce === 'histogram' && !spec.perFrame;
  const values: number[] = summed ? new Array(256 * shape.channels).fill(0) : [];
  for (let i = 0; i < records; i++) {
    const frame = applyChain(chain, src.subarray(i * recordSize, (i + 1) * recordSize));
    if (output) output.set(frame, i * size);
    if (chain.reduce === 'framestats') values.push(...frameStatsJs(frame, shape));
    else if (chain.reduce === 'histogram') {
      const at = summed ? 0 : values.length;
      if (!summed) values.push(...new Array<number>(256 * shape.channels).fill(0));
      histogramJs(frame, shape, values, at);
    }
  }
  return { values: records === 0 && summed ? [] : values, output };
}

/** The native kernel over the chunk's frames (only those --every keeps when writing). */
function nativeChunk(spec: ImageSpec, c: NativeChunkInput, wantOutput: boolean): ChunkResult<ImagePartial> | null {
  const { chain } = spec;
  const size = frameBytes(outShape(chain));
  const native = {
    steps: chain.steps,
    shapes: chain.shapes,
    reduce: chain.reduce ?? ('' as const),
    perFrame: spec.perFrame,
  };
  const kernel = imageKernel(c.addon);
  if (wantOutput && spec.every > 1) {
    const kept = keptInChunk(spec.every, c.records, c.firstRecord);
    const out = new Uint8Array(kept.length * size);
    for (const [k, i] of kept.entries()) {
      const r = kernel.image(
        c.mapping,
        c.byteOffset + i * c.recordSize,
        1,
        c.recordSize,
        native,
        out.subarray(k * size, (k + 1) * size),
        c.ctl,
      );
      if (r === null) return null;
    }
    return { partial: { frames: c.records, values: [] }, output: out };
  }
  const bytes = c.records * size;
  const lent = c.outBuffer && c.outBuffer.byteLength >= bytes ? new Uint8Array(c.outBuffer, 0, bytes) : null;
  const out = wantOutput ? (lent ?? new Uint8Array(bytes)) : null;
  const r = kernel.image(c.mapping, c.byteOffset, c.records, c.recordSize, native, out, c.ctl);
  if (r === null) return null;
  const values = c.records === 0 && chain.reduce === 'histogram' && !spec.perFrame ? [] : Array.from(r.values);
  return { partial: { frames: c.records, values }, output: out ?? undefined };
}

/** Bytes of the output: the PNG files' sizes (read back once they are in place), else header + frames. */
function bytesOut(spec: ImageSpec, frames: number): number {
  const shape = outShape(spec.chain);
  if (spec.out?.format === 'png') {
    const dir = spec.out.dir!;
    let sum = 0;
    for (let i = 0; i < frames; i++) sum += statSync(join(dir, pngName(i * spec.every))).size;
    return sum;
  }
  const header = spec.out?.format === 'npy' ? npyFramesHeader(frames, shape).length : 0;
  return header + frames * frameBytes(shape);
}

function mapResult(spec: ImageSpec, p: ImagePartial): Record<string, unknown> {
  const shape = outShape(spec.chain);
  const framesOut = spec.out ? keptFrames(p.frames, spec.every) : p.frames;
  return {
    chain: spec.chain.text,
    frames_in: p.frames,
    frames_out: framesOut,
    shape: [framesOut, shape.height, shape.width, shape.channels],
    frame_bytes: frameBytes(shape),
    ...(spec.every > 1 ? { every: spec.every } : {}),
    ...(spec.out ? { format: spec.out.format, bytes_out: bytesOut(spec, framesOut) } : {}),
    ...(spec.chain.dropped.length ? { dropped: spec.chain.dropped } : {}),
  };
}

function formatMap(spec: ImageSpec, r: Record<string, unknown>): string {
  const [n, h, w, c] = r.shape as number[];
  const i = spec.chain.shapes[0]!;
  const lines = [
    `${r.chain}: ${r.frames_in} frames ${i.width}x${i.height}x${i.channels} -> ${r.frames_out} frames ${w}x${h}x${c} (${r.frame_bytes} bytes each)${spec.every > 1 ? `, 1 in ${spec.every}` : ''}`,
  ];
  const what: Record<ImageFormat, string> = {
    raw: ' of raw frames',
    npy: ` (.npy, shape (${n}, ${h}, ${w}${c! > 1 ? `, ${c}` : ''}))`,
    png: ` in ${n} PNG files (frame-NNNNNN.png)`,
  };
  if (spec.out) lines.push(`wrote ${r.bytes_out} bytes${what[spec.out.format]}`);
  for (const d of (r.dropped as { stage: string; columns: number; rows: number }[] | undefined) ?? []) {
    lines.push(`${d.stage} dropped the last ${d.columns} columns and ${d.rows} rows (they do not fill a box)`);
  }
  return lines.join('\n');
}

export const image: OpDef<ImageSpec, ImagePartial, Record<string, unknown>> = {
  name: 'image',
  summary: `image frames through a chain of ops in one pass, e.g. ${EXAMPLE} (grey invert threshold levels blur convolve sobel downscale crop | framestats histogram)`,
  writesRecords: true,
  imageKernels: true,
  flags: [
    { flags: '--per-frame', description: 'histogram: one 256-bin histogram per frame instead of one for the file' },
    { flags: '--format <fmt>', description: 'image: --out as raw frames, npy or png (--out DIR/: one PNG per frame)' },
    { flags: '--every <n>', description: 'image: write 1 frame in N to --out (frames 0, N, 2N…)' },
    WHERE_FLAG,
    { flags: '--by <field>', description: 'top: the numeric field to rank by; framestats: the column (e.g. mean)' },
    { flags: '-k, --top-k <n>', description: 'top: how many records (default 10, at most 1000000)' },
    { flags: '--asc', description: 'top: the smallest values instead of the largest' },
  ],
  prepare(options, layout) {
    const text = String(options.op ?? '');
    if (!isImageChain(text)) throw usage(`--op image needs the chain itself, e.g. ${EXAMPLE}`);
    const chain = parseChain(text, frameShape(layout, text));
    const perFrame = options.perFrame === true;
    if (perFrame && chain.reduce !== 'histogram')
      throw usage(`--per-frame is used only by a chain ending in histogram, not by --op ${JSON.stringify(chain.text)}`);
    const out = imageOut(options, chain);
    const rows = rowSelect(options, chain);
    const spec = { chain, perFrame, out, every: imageEvery(options), rows, knownFrames: layout.expectedRecords };
    // sharp is loaded (or found missing) before any work, only by a run that writes PNG
    return out?.format === 'png' ? loadSharp().then(() => spec) : spec;
  },
  writesDirectory: (options) => options.format === 'png',
  outputBytesPerRecord: (spec) => frameBytes(outShape(spec.chain)),
  openOutput(spec, path) {
    const shape = outShape(spec.chain);
    if (spec.out?.format === 'npy')
      return new NpyFramesOutput(path, shape, spec.knownFrames && keptFrames(spec.knownFrames, spec.every));
    if (spec.out?.format === 'png') return new PngFramesDir(path, shape, spec.every, loadedSharp());
    return undefined;
  },
  init() {
    return { frames: 0, values: [] };
  },
  js(spec, chunk, wantOutput) {
    const src = new Uint8Array(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    const r = jsChunk(spec, src, chunk.records, chunk.recordSize, wantOutput, chunk.firstRecord);
    return { partial: { frames: chunk.records, values: r.values }, output: r.output };
  },
  // a lent buffer for the whole chunk's frames (not with --every: its count depends on where the chunk starts)
  outputBytes(spec, records) {
    return spec.every > 1 ? 0 : records * frameBytes(outShape(spec.chain));
  },
  native: nativeChunk,
  merge(spec, a, b) {
    return mergePartials(a, b, spec.chain.reduce === 'histogram' && !spec.perFrame);
  },
  finalize(spec, p) {
    const { chain } = spec;
    if (!chain.reduce) return mapResult(spec, p);
    const r = reduceResult(chain.reduce, p, outShape(chain), spec.perFrame);
    if (chain.reduce !== 'framestats' || (!spec.rows.where && !spec.rows.top))
      return { chain: chain.text, frames_in: p.frames, ...r };
    const frames = selectRows(r.frames as FrameRow[], spec.rows);
    const sel = {
      ...(spec.rows.where ? { where: spec.rows.where.text } : {}),
      ...(spec.rows.top ? { by: spec.rows.top.by, k: spec.rows.top.k, asc: spec.rows.top.asc } : {}),
    };
    return { chain: chain.text, frames_in: p.frames, ...r, ...sel, frames };
  },
  format(spec, r) {
    return spec.chain.reduce ? formatReduce(spec.chain.reduce, r) : formatMap(spec, r);
  },
};
