// The image op: `--op 'grey|blur:2|sobel'` on frames (--frame WxHxC, or an .npy of shape (N, H, W[, C])
// u8). Map steps run one frame at a time in one pass; the frames go to --out (raw, or .npy), or a
// reduce step at the end (framestats, histogram) turns them into numbers. Registered as `image`;
// getOp() hands it any --op whose stages are all image ops.
import type { OpDef } from '../ops/types.js';
import type { Layout } from '../layout/types.js';
import { usage } from '../errors.js';
import { isImageChain, parseChain } from './chain.js';
import { applyChain, frameStatsJs, histogramJs } from './oracle.js';
import { formatReduce, mergePartials, reduceResult, type ImagePartial } from './reduce.js';
import { isNpyPath, npyFramesHeader, NpyFramesOutput } from './npy-out.js';
import { imageKernel } from './native-api.js';
import { frameBytes, outShape, type ImageChain } from './steps.js';

export interface ImageSpec {
  chain: ImageChain;
  perFrame: boolean;
  /** with --out: whether it is an .npy (not its path: parts of one static run write to different paths) */
  out: { npy: boolean } | null;
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

function checkOut(options: Record<string, unknown>, chain: ImageChain): ImageSpec['out'] {
  if (options.out === undefined) return null;
  const path = String(options.out);
  if (chain.reduce)
    throw usage(
      `--out writes frames, but --op ${JSON.stringify(chain.text)} ends in ${chain.reduce}, which gives numbers: drop --out or the ${chain.reduce} stage`,
    );
  const npy = isNpyPath(path);
  if (npy && (options.manifest !== undefined || options.shardIndex !== undefined)) {
    throw usage(
      `--out ${JSON.stringify(path)}: an .npy output is written by one host (its header counts every frame); give a raw --out file for a run shared between hosts`,
    );
  }
  return { npy };
}

/** What a chunk of frames becomes: output bytes (map chains) and reduce values. */
function jsChunk(
  spec: ImageSpec,
  src: Uint8Array,
  records: number,
  recordSize: number,
  wantOutput: boolean,
): { values: number[]; output?: Uint8Array } {
  const { chain } = spec;
  const shape = outShape(chain);
  const size = frameBytes(shape);
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

export const image: OpDef<ImageSpec, ImagePartial, Record<string, unknown>> = {
  name: 'image',
  summary: `image frames through a chain of ops in one pass, e.g. ${EXAMPLE} (grey invert threshold levels blur convolve sobel downscale crop | framestats histogram)`,
  writesRecords: true,
  flags: [
    { flags: '--per-frame', description: 'histogram: one 256-bin histogram per frame instead of one for the file' },
  ],
  prepare(options, layout) {
    const text = String(options.op ?? '');
    if (!isImageChain(text)) throw usage(`--op image needs the chain itself, e.g. ${EXAMPLE}`);
    const chain = parseChain(text, frameShape(layout, text));
    const perFrame = options.perFrame === true;
    if (perFrame && chain.reduce !== 'histogram')
      throw usage(`--per-frame is used only by a chain ending in histogram, not by --op ${JSON.stringify(chain.text)}`);
    return { chain, perFrame, out: checkOut(options, chain), knownFrames: layout.expectedRecords };
  },
  openOutput(spec, path) {
    return spec.out?.npy ? new NpyFramesOutput(path, outShape(spec.chain), spec.knownFrames) : undefined;
  },
  init() {
    return { frames: 0, values: [] };
  },
  js(spec, chunk, wantOutput) {
    const src = new Uint8Array(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    const r = jsChunk(spec, src, chunk.records, chunk.recordSize, wantOutput);
    return { partial: { frames: chunk.records, values: r.values }, output: r.output };
  },
  outputBytes(spec, records) {
    return records * frameBytes(outShape(spec.chain));
  },
  native(spec, c, wantOutput) {
    const { chain } = spec;
    const bytes = c.records * frameBytes(outShape(chain));
    const lent = c.outBuffer && c.outBuffer.byteLength >= bytes ? new Uint8Array(c.outBuffer, 0, bytes) : null;
    const out = wantOutput ? (lent ?? new Uint8Array(bytes)) : null;
    const native = {
      steps: chain.steps,
      shapes: chain.shapes,
      reduce: chain.reduce ?? ('' as const),
      perFrame: spec.perFrame,
    };
    const r = imageKernel(c.addon).image(c.mapping, c.byteOffset, c.records, c.recordSize, native, out, c.ctl);
    if (r === null) return null;
    const values = c.records === 0 && chain.reduce === 'histogram' && !spec.perFrame ? [] : Array.from(r.values);
    return { partial: { frames: c.records, values }, output: out ?? undefined };
  },
  merge(spec, a, b) {
    return mergePartials(a, b, spec.chain.reduce === 'histogram' && !spec.perFrame);
  },
  finalize(spec, p) {
    const { chain } = spec;
    const shape = outShape(chain);
    const base: Record<string, unknown> = { chain: chain.text, frames_in: p.frames };
    if (chain.reduce) return { ...base, ...reduceResult(chain.reduce, p, shape, spec.perFrame) };
    const dims = [p.frames, shape.height, shape.width, shape.channels];
    const header = spec.out?.npy ? npyFramesHeader(p.frames, shape).length : 0;
    return {
      ...base,
      frames_out: p.frames,
      shape: dims,
      frame_bytes: frameBytes(shape),
      ...(spec.out ? { bytes_out: header + p.frames * frameBytes(shape) } : {}),
      ...(chain.dropped.length ? { dropped: chain.dropped } : {}),
    };
  },
  format(spec, r) {
    if (spec.chain.reduce) return formatReduce(spec.chain.reduce, r);
    const [n, h, w, c] = r.shape as number[];
    const i = spec.chain.shapes[0]!;
    const lines = [
      `${r.chain}: ${r.frames_in} frames ${i.width}x${i.height}x${i.channels} -> ${r.frames_out} frames ${w}x${h}x${c} (${r.frame_bytes} bytes each)`,
    ];
    if (spec.out)
      lines.push(
        `wrote ${r.bytes_out} bytes${spec.out.npy ? ` (.npy, shape (${n}, ${h}, ${w}${c! > 1 ? `, ${c}` : ''}))` : ' of raw frames'}`,
      );
    for (const d of (r.dropped as { stage: string; columns: number; rows: number }[] | undefined) ?? []) {
      lines.push(`${d.stage} dropped the last ${d.columns} columns and ${d.rows} rows (they do not fill a box)`);
    }
    return lines.join('\n');
  },
};
