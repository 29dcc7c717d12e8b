// Frames on which a blur that rounds x'·V in float32 would miss the integer definition (oracle-blur.ts):
// the second pass's x'·V reaches 5.4e8, where f32 values are 16 to 64 apart, so ⌊(x'·V + 2^14) / 2^15⌋
// computed with one f32 rounding (fused) or two comes out one off when x'·V + 2^14 lies that close to a
// multiple of 2^15. Random frames meet that about once in 10^5 pixels and the final ÷2^F hides most of
// those, so each window here is built: a pair of columns whose S1 sum x' makes such a term, next to
// other columns that bring S2 to a rounding boundary of the final ÷2^F, where that term flips the byte.

/** ⌊(a·V + 2^14) / 2^15⌋ in f32 (rounded once, fused, and twice) minus the exact value; 0 unless both agree. */
function termError(a: number, v: number): number {
  const exact = Math.floor((a * v + 16384) / 32768);
  const fused = Math.floor(Math.fround(a * v + 16384) / 32768) - exact;
  const twice = Math.floor(Math.fround(Math.fround(a * v) + 16384) / 32768) - exact;
  return fused === twice ? fused : 0;
}

/** S1 at row 0 of a two-row frame whose column is (p0, p1): x_0 = 2·p0, x_k = p0 + p1 (edges clamped). */
function firstPass(p0: number, p1: number, taps: number[], frac: number): number {
  const d = 15 - frac;
  return taps.reduce((sum, v, k) => sum + (((k === 0 ? 2 * p0 : p0 + p1) * v + 2 ** (d - 1)) >> d), 0);
}

/** Every S1 a column can give, with one column (p0, p1) giving it. */
function reachable(taps: number[], frac: number): Map<number, [number, number]> {
  const reach = new Map<number, [number, number]>();
  for (let p0 = 0; p0 < 256; p0++) for (let p1 = 0; p1 < 256; p1++) reach.set(firstPass(p0, p1, taps, frac), [p0, p1]);
  return reach;
}

/** Pairs of columns (left, right) at distance k whose x' makes term k one off in f32, k ≥ 1. */
function* erringPairs(taps: number[], reach: Map<number, [number, number]>) {
  for (let k = 1; k < taps.length; k++)
    for (let a = 0; a < 32767; a++) {
      if (termError(a, taps[k]!) === 0) continue;
      for (const [u, left] of reach) {
        const right = reach.get(a - u);
        if (right) {
          yield { k, left, right };
          break;
        }
      }
    }
}

/**
 * A two-row, one-channel frame of `windows` windows 2r + 1 columns wide, side by side; at row 0 of each
 * window's centre, f32 rounding of x'·V changes the output byte. Deterministic; throws if it finds too few.
 */
export function blurTrapFrame(taps: number[], frac: number, windows: number): { width: number; bytes: Uint8Array } {
  const r = taps.length - 1;
  const reach = reachable(taps, frac);
  const columns = [...reach.values()];
  const s1 = (c: [number, number]) => firstPass(c[0], c[1], taps, frac);
  const byte = (s: number) => Math.min(255, (s + 2 ** (frac - 1)) >> frac);
  let seed = 12345;
  const pick = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return columns[seed % columns.length]!;
  };
  const found: [number, number][][] = [];
  for (const { k, left, right } of erringPairs(taps, reach)) {
    for (let tries = 0; tries < 256; tries++) {
      const win = Array.from({ length: 2 * r + 1 }, pick);
      win[r - k] = left;
      win[r + k] = right;
      let s2 = 0;
      let error = 0;
      for (let j = 0; j <= r; j++) {
        const a = s1(win[r - j]!) + s1(win[r + j]!);
        s2 += Math.floor((a * taps[j]! + 16384) / 32768);
        error += termError(a, taps[j]!);
      }
      if (byte(s2) === byte(s2 + error)) continue;
      found.push(win);
      break;
    }
    if (found.length === windows) break;
  }
  if (found.length < windows) throw new Error(`only ${found.length} blur trap windows for taps ${taps.join(',')}`);
  const width = windows * (2 * r + 1);
  const bytes = new Uint8Array(2 * width);
  found.flat().forEach(([p0, p1], x) => {
    bytes[x] = p0;
    bytes[width + x] = p1;
  });
  return { width, bytes };
}
