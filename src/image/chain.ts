// `--op 'grey|blur:2|sobel'`: an image chain parsed against the input frame's shape into steps and
// the shape after each one. Every mistake is one usage error naming the stage, the value and what
// was expected; nothing is checked later.
import { expected, usage } from '../errors.js';
import { parseConvolve } from './convolve-text.js';
import {
  MAP_OPS,
  REDUCE_OPS,
  type ImageChain,
  type MapStep,
  type Dropped,
  type ReduceName,
  type Shape,
} from './steps.js';

const ALL = [...MAP_OPS, ...REDUCE_OPS] as readonly string[];
const MAX_SIGMA = 100;

interface Stage {
  name: string;
  args: string[];
  /** the stage as written, for messages */
  text: string;
}

function stages(text: string): Stage[] {
  return text.split('|').map((raw) => {
    const t = raw.trim();
    const colon = t.indexOf(':');
    const name = (colon < 0 ? t : t.slice(0, colon)).trim();
    return { name, args: colon < 0 ? [] : t.slice(colon + 1).split(':'), text: t };
  });
}

/**
 * True when a `|`-separated stage names an image op: this --op is meant as an image chain (and a stage
 * that names none is then reported by parseChain, with its position).
 */
export function isImageChain(text: string): boolean {
  return stages(text).some((s) => ALL.includes(s.name));
}

function int(s: Stage, arg: string | undefined, what: string, lo: number, hi: number): number {
  const v = arg !== undefined && /^\s*[-+]?\d+\s*$/.test(arg) ? Number(arg) : NaN;
  if (!Number.isSafeInteger(v) || v < lo || v > hi)
    throw expected(`--op ${s.name}`, `${what} (an integer from ${lo} to ${hi})`, s.text);
  return v;
}

function arity(s: Stage, n: number, form: string): void {
  if (s.args.length !== n) throw expected(`--op ${s.name}`, `the form ${form}`, s.text);
}

/** The 256-entry table of a point op; alpha (C=4) is left as it is. */
function lut(fn: (v: number) => number): MapStep {
  return { op: 'lut', table: Array.from({ length: 256 }, (_, v) => fn(v)), keepAlpha: true };
}

/** levels LO:HI: 0 at LO and below, 255 at HI and above, round half up of (v-LO)·255/(HI-LO) between. */
export function levelsValue(v: number, lo: number, hi: number): number {
  if (v <= lo) return 0;
  if (v >= hi) return 255;
  const d = hi - lo;
  return Math.floor(((v - lo) * 510 + d) / (2 * d));
}

/** Gaussian weights exp(-k²/2σ²) for k = -r…r, normalised to sum 1 (float64). */
export function gaussian(sigma: number, radius: number): number[] {
  const w = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/**
 * The integer blur's pair weights (Q15): the centre pixel counts as the pair (p, p), so V_0 = g_0·2^14 and
 * V_k = g_k·2^15 for k = 1…r, each floored, then the 2^14 − Σ⌊·⌋ largest fractional parts (ties: the
 * smaller k) rounded up — they sum to exactly 2^14 (pair weights of a unit-sum kernel sum to ½). Computed
 * here once, in float64, and sent as integers to every backend, so no backend computes a weight itself.
 */
export function blurTaps(weights: number[], radius: number): number[] {
  const exact = Array.from({ length: radius + 1 }, (_, k) => weights[radius + k]! * (k === 0 ? 2 ** 14 : 2 ** 15));
  const taps = exact.map(Math.floor);
  const order = exact.map((e, k) => ({ k, frac: e - taps[k]! })).sort((a, b) => b.frac - a.frac || a.k - b.k);
  const short = 2 ** 14 - taps.reduce((a, b) => a + b, 0);
  for (let i = 0; i < short; i++) taps[order[i]!.k]! += 1;
  return taps;
}

/**
 * How the integer blur rounds (oracle-blur.ts): each term, in 16-bit range, up to radius 48 (σ 16: the
 * proved bound keeps it within a level); past that the per-term roundings would add up to a visible
 * shift, so each pass's sum is rounded once instead.
 */
export const blurRounding = (radius: number): 'term' | 'sum' => (radius <= 48 ? 'term' : 'sum');

function blur(s: Stage): MapStep {
  arity(s, 1, 'blur:SIGMA, e.g. blur:2');
  const sigma = /^\s*(?:\d+\.?\d*|\.\d+)\s*$/.test(s.args[0]!) ? Number(s.args[0]) : NaN;
  if (!(sigma > 0 && sigma <= MAX_SIGMA))
    throw expected('--op blur', `a sigma above 0 and at most ${MAX_SIGMA}, e.g. blur:2`, s.text);
  const radius = Math.ceil(3 * sigma);
  const weights = gaussian(sigma, radius);
  return { op: 'blur', sigma, radius, weights, taps: blurTaps(weights, radius), rounding: blurRounding(radius) };
}

/** One map stage at the given input shape: its step and the shape after it. */
function mapStep(s: Stage, shape: Shape, dropped: Dropped[]): [MapStep, Shape] {
  const same = (step: MapStep): [MapStep, Shape] => [step, shape];
  switch (s.name) {
    case 'grey':
      arity(s, 0, 'grey');
      return [{ op: 'grey' }, { ...shape, channels: 1 }];
    case 'invert':
      arity(s, 0, 'invert');
      return same(lut((v) => 255 - v));
    case 'threshold': {
      arity(s, 1, 'threshold:T, e.g. threshold:128');
      const t = int(s, s.args[0], 'a threshold T (values above T become 255, the rest 0)', 0, 255);
      return same(lut((v) => (v > t ? 255 : 0)));
    }
    case 'levels': {
      arity(s, 2, 'levels:LO:HI, e.g. levels:16:235');
      const lo = int(s, s.args[0], 'a low level LO', 0, 254);
      const hi = int(s, s.args[1], 'a high level HI above LO', lo + 1, 255);
      return same(lut((v) => levelsValue(v, lo, hi)));
    }
    case 'blur':
      return same(blur(s));
    case 'convolve': {
      if (s.args.length === 0) arity(s, 1, "convolve:K, e.g. convolve:'1,2,1,2,4,2,1,2,1/16'");
      return same({ op: 'convolve', ...parseConvolve(s.args.join(':')) });
    }
    case 'sobel':
      arity(s, 0, 'sobel');
      return same({ op: 'sobel' });
    case 'downscale': {
      arity(s, 1, 'downscale:F, e.g. downscale:2');
      const f = int(
        s,
        s.args[0],
        `a factor F no larger than the ${shape.width}×${shape.height} frame`,
        1,
        Math.min(shape.width, shape.height),
      );
      if (shape.width % f || shape.height % f)
        dropped.push({ stage: s.text, columns: shape.width % f, rows: shape.height % f });
      return [
        { op: 'downscale', factor: f },
        { ...shape, width: Math.floor(shape.width / f), height: Math.floor(shape.height / f) },
      ];
    }
    default:
      return crop(s, shape);
  }
}

function crop(s: Stage, shape: Shape): [MapStep, Shape] {
  arity(s, 1, 'crop:X,Y,W,H, e.g. crop:0,0,64,64');
  const parts = s.args[0]!.split(',');
  if (parts.length !== 4) throw expected('--op crop', 'the form crop:X,Y,W,H, e.g. crop:0,0,64,64', s.text);
  const x = int(s, parts[0], `X inside the ${shape.width}-pixel-wide frame`, 0, shape.width - 1);
  const y = int(s, parts[1], `Y inside the ${shape.height}-pixel-high frame`, 0, shape.height - 1);
  const width = int(s, parts[2], `a width W with X + W within ${shape.width}`, 1, shape.width - x);
  const height = int(s, parts[3], `a height H with Y + H within ${shape.height}`, 1, shape.height - y);
  return [
    { op: 'crop', x, y, width, height },
    { ...shape, width, height },
  ];
}

/** Parse `text` for frames of `input` shape. */
export function parseChain(text: string, input: Shape): ImageChain {
  const all = stages(text);
  const steps: MapStep[] = [];
  const shapes: Shape[] = [input];
  const dropped: Dropped[] = [];
  let reduce: ReduceName | null = null;
  for (const [i, s] of all.entries()) {
    if (!ALL.includes(s.name))
      throw expected('--op', `an image op (${ALL.join(', ')}) at stage ${i + 1} of the chain`, s.text || text);
    if ((REDUCE_OPS as readonly string[]).includes(s.name)) {
      if (i !== all.length - 1)
        throw usage(
          `--op ${JSON.stringify(text)}: ${s.name} reduces frames to numbers, so it must be the last stage of the chain`,
        );
      arity(s, 0, s.name);
      reduce = s.name as ReduceName;
      break;
    }
    const [step, shape] = mapStep(s, shapes[shapes.length - 1]!, dropped);
    steps.push(step);
    shapes.push(shape);
  }
  return { text: all.map((s) => s.text).join('|'), steps, shapes, reduce, dropped };
}
