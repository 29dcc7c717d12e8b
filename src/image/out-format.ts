// What an image chain's --out is: raw frames, an .npy, or a directory of PNGs (--format, else inferred
// from the path: `.npy` is NumPy, anything else raw), and --every N, the 1-in-N frames it keeps. Each
// option an image run would not use is refused here, with what would use it.
import { expected, usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { isNpyPath } from './npy-out.js';
import type { ImageChain } from './steps.js';

export const IMAGE_FORMATS = ['raw', 'npy', 'png'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface ImageOut {
  format: ImageFormat;
  /** png: the directory (a PNG run is one host's; its result sums the files' sizes) */
  dir?: string;
}

/** Largest --every: any frame count fits (the file has fewer frames than this). */
const MAX_EVERY = 2 ** 31 - 1;

function sharedRun(options: Record<string, unknown>): boolean {
  return options.manifest !== undefined || options.shardIndex !== undefined;
}

function format(options: Record<string, unknown>, path: string): ImageFormat {
  if (options.format === undefined) return isNpyPath(path) ? 'npy' : 'raw';
  const f = String(options.format);
  if (!(IMAGE_FORMATS as readonly string[]).includes(f))
    throw expected('--format', `one of ${IMAGE_FORMATS.join(', ')} for an image chain's --out`, f);
  return f as ImageFormat;
}

/** --out, --format and --every for `chain`: null without --out (then --format and --every are errors). */
export function imageOut(options: Record<string, unknown>, chain: ImageChain): ImageOut | null {
  if (options.out === undefined) {
    for (const flag of ['format', 'every'])
      if (options[flag] !== undefined)
        throw usage(
          `--${flag} is used only with --out (the frames an image chain writes), which this run does not have`,
        );
    return null;
  }
  const path = String(options.out);
  if (chain.reduce)
    throw usage(
      `--out writes frames, but --op ${JSON.stringify(chain.text)} ends in ${chain.reduce}, which gives numbers: drop --out or the ${chain.reduce} stage`,
    );
  const f = format(options, path);
  if (f !== 'raw' && sharedRun(options)) {
    throw usage(
      `--out ${JSON.stringify(path)}: ${f === 'npy' ? 'an .npy output is written by one host (its header counts every frame)' : 'PNG files are written by one host'}; give a raw --out file for a run shared between hosts`,
    );
  }
  if (options.every !== undefined && sharedRun(options))
    throw usage('--every is for a run on one host: a run shared between hosts writes every frame');
  return f === 'png' ? { format: f, dir: path } : { format: f };
}

/** --every N (default 1): keep frames 0, N, 2N… */
export function imageEvery(options: Record<string, unknown>): number {
  if (options.every === undefined) return 1;
  return parsePositiveInt(options.every as string | number, '--every', MAX_EVERY);
}

/** Frames kept out of `frames` with --every `every`. */
export function keptFrames(frames: number, every: number): number {
  return frames === 0 ? 0 : Math.floor((frames - 1) / every) + 1;
}
