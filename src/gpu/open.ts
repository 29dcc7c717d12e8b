// Opening a GPU device by `--backend` name. Each kind's code (and its optional package) is loaded only
// when asked for: gpu.js and Dawn take tens of milliseconds to load, and a machine may have neither.
import { GpuUnavailable, type GpuDevice, type GpuKind } from './device.js';

/** The kinds whose GL or Dawn code has run in this process (see driverLoaded). */
const loaded = new Set<GpuKind>();

/**
 * Whether a kind's driver code has run in this process. Dawn (through EGL) and headless-gl (through
 * GLX) must not both: with an X display, gl's context then fails with an X error that ends the process
 * (BadAccess in X_GLXMakeCurrent, seen on Mesa 22) — so auto tries one kind per process.
 */
export function driverLoaded(kind: GpuKind): boolean {
  return loaded.has(kind);
}

export async function openGpu(kind: GpuKind): Promise<GpuDevice> {
  try {
    const device =
      kind === 'webgpu'
        ? await (await import('./webgpu/device.js')).openWebGpu()
        : await (await import('./gpujs/device.js')).openGpuJs();
    loaded.add(kind);
    return device;
  } catch (e) {
    if (!(e instanceof GpuUnavailable && !e.driverLoaded)) loaded.add(kind);
    throw e;
  }
}
