// `bigproc doctor`'s probes: which backends this machine has. Each GPU or libvips probe loads a native
// library that could hang or crash the process (a wedged X server, a broken driver), so doctor runs it
// in a child process of its own (`bigproc doctor --probe NAME`, doctor.ts) under a time limit; the
// native and js probes are cheap and safe in-process.
import { addonLoadError, loadAddon } from '../native/addon.js';
import { isSoftwareRenderer } from '../gpu/software.js';

export interface ProbeResult {
  available: boolean;
  /** what runs (dispatch level, kernel class, adapter, library version), or why not */
  detail: string;
}

export const BACKEND_NAMES = ['native', 'js', 'gpu', 'webgpu', 'sharp'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** The probes run in a child process. */
export const CHILD_PROBES: readonly BackendName[] = ['gpu', 'webgpu', 'sharp'];

/** A device's detail, flagged when it names a software renderer (it proves correctness, not speed). */
function renderer(detail: string): string {
  return isSoftwareRenderer(detail) ? `${detail} — a software renderer on the CPU, not a GPU` : detail;
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export function probeNative(): ProbeResult {
  const addon = loadAddon();
  if (!addon) return { available: false, detail: addonLoadError() ?? 'the native addon did not load' };
  const info = addon.cpuInfo();
  return { available: true, detail: `${info.dispatch} kernels, image kernels ${info.imageDispatch} (${info.arch})` };
}

export function probeJs(): ProbeResult {
  return { available: true, detail: 'the JavaScript kernels (always present; the slowest)' };
}

/** gpu.js: a real kernel run, and its class checked (without a display gpu.js would run on the CPU). */
async function probeGpuJs(): Promise<ProbeResult> {
  const { loadGpuJs } = await import('../gpu/gpujs/load.js');
  const lib = loadGpuJs();
  const k = lib.gpu.createKernel('function (a) { return a[this.thread.x] + 1; }', { output: [2] });
  const got = k(new Float32Array([1, 2])) as Float32Array;
  lib.check(k);
  lib.gpu.destroy();
  if (got[1] !== 3) return { available: false, detail: `gpu.js computed ${got[1]} for 2 + 1 on ${lib.detail}` };
  return { available: true, detail: renderer(lib.detail) };
}

async function probeWebGpu(): Promise<ProbeResult> {
  const { openGpu } = await import('../gpu/open.js');
  const device = await openGpu('webgpu');
  const detail = device.detail;
  device.close();
  return { available: true, detail: renderer(detail) };
}

async function probeSharp(): Promise<ProbeResult> {
  const { createRequire } = await import('node:module');
  const sharp = createRequire(import.meta.url)('sharp') as { versions?: { vips?: string; sharp?: string } };
  const v = sharp.versions ?? {};
  return { available: true, detail: `sharp ${v.sharp ?? '?'} on libvips ${v.vips ?? '?'} (PNG output)` };
}

const HOW: Partial<Record<BackendName, string>> = {
  sharp: 'npm install sharp',
};

/** One probe, never throwing: a failure is "not available" with its first line. */
export async function probe(name: BackendName): Promise<ProbeResult> {
  try {
    if (name === 'native') return probeNative();
    if (name === 'js') return probeJs();
    if (name === 'gpu') return await probeGpuJs();
    if (name === 'webgpu') return await probeWebGpu();
    return await probeSharp();
  } catch (e) {
    const hint = HOW[name] ? `; ${HOW[name]}` : '';
    return { available: false, detail: `${why(e)}${hint}` };
  }
}
