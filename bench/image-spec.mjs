// An image chain's native spec for bench/kernel-ab.mjs, made by the project's own parser
// (src/image/chain.ts, bundled on the fly with esbuild) so the benchmark never keeps a second copy of
// how a step's numbers (the blur's taps) are computed.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `call(addon, mapping)` running CHAIN over the first `frames` frames of shape WxHxC into one buffer. */
export async function image(chainText, frame, frames) {
  const dir = mkdtempSync(join(tmpdir(), 'bigproc-bench-'));
  const out = join(dir, 'chain.mjs');
  try {
    await build({
      entryPoints: [join(root, 'src/image/chain.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      logLevel: 'error',
    });
    const { parseChain } = await import(pathToFileURL(out).href);
    const [width, height, channels] = frame.split('x').map(Number);
    const chain = parseChain(chainText, { width, height, channels });
    const spec = { steps: chain.steps, shapes: chain.shapes, reduce: chain.reduce ?? '', perFrame: false };
    const last = chain.shapes.at(-1);
    // a reduce (framestats, histogram) writes no frames, as on the CLI: with a buffer the addon would copy them
    const buf = chain.reduce ? null : new Uint8Array(frames * last.width * last.height * last.channels);
    return (addon, m) => addon.image(m, 0, frames, width * height * channels, spec, buf, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
