// Loading gpu.js for `--backend gpu`, only when a run asks for it, and making sure it really runs on
// a GL context: without an X display headless-gl gives no context and gpu.js would quietly run its
// CPU or WebAssembly mode instead, so anything but a HeadlessGLKernel is refused, never used.
import { createRequire } from 'node:module';
import { GpuUnavailable } from '../device.js';

/** The kernel function gpu.js's createKernel returns (only what this device uses). */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): void;
  destroy?(removeCanvasReferences?: boolean): void;
  /** the kernel that really runs (gpu.js may swap it for another backend's) */
  kernel: { constructor: { name: string } };
}

export interface GpuJs {
  gpu: { createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel; destroy(): void };
  /** "HeadlessGLKernel (headlessgl, ANGLE (Mesa/X.org llvmpipe …))" */
  detail: string;
  /** Throws unless `k` still runs as a HeadlessGLKernel (gpu.js falls back at build time when a shader fails). */
  check(k: GpuJsKernel): void;
}

const HOW =
  'gpu.js runs on headless-gl, which needs an X display: run under `xvfb-run -a bigproc …` (Debian: apt install xvfb xauth) or set DISPLAY';

function requireOptional(name: string): unknown {
  try {
    return createRequire(import.meta.url)(name);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new GpuUnavailable(
      `--backend gpu: the optional package ${name} does not load (${why}); install it with npm install gpu.js gl`,
      false,
    );
  }
}

/** What the GL driver under ANGLE says it is (headless-gl itself answers "ANGLE"). */
function renderer(gl: { RENDERER: number }): string {
  const native = Object.getPrototypeOf(Object.getPrototypeOf(gl)) as { getParameter(p: number): unknown };
  return String(native.getParameter.call(gl, gl.RENDERER));
}

export function loadGpuJs(): GpuJs {
  if (!process.env.DISPLAY) throw new GpuUnavailable(`--backend gpu: no X display (DISPLAY is not set); ${HOW}`, false);
  const createGl = requireOptional('gl') as (w: number, h: number) => { RENDERER: number } | null;
  const probe = createGl(1, 1);
  if (!probe)
    throw new GpuUnavailable(
      `--backend gpu: headless-gl gave no OpenGL context on DISPLAY=${process.env.DISPLAY}; ${HOW}`,
    );
  const rendererName = renderer(probe);
  (probe as unknown as { getExtension(n: string): { destroy(): void } | null })
    .getExtension('STACKGL_destroy_context')
    ?.destroy();
  const lib = requireOptional('gpu.js') as {
    GPU: new (o: Record<string, unknown>) => GpuJs['gpu'];
    HeadlessGLKernel: { isSupported: boolean };
  };
  if (!lib.HeadlessGLKernel?.isSupported)
    throw new GpuUnavailable(`--backend gpu: gpu.js's headlessgl mode is not supported here; ${HOW}`);
  const gpu = new lib.GPU({ mode: 'headlessgl' });
  return {
    gpu,
    detail: `HeadlessGLKernel (headlessgl, ${rendererName})`,
    check(k) {
      const name = k.kernel?.constructor?.name;
      if (name !== 'HeadlessGLKernel')
        throw new GpuUnavailable(
          `--backend gpu: gpu.js ran a ${name ?? 'unknown'} kernel, not a HeadlessGLKernel; ${HOW}`,
        );
    },
  };
}
