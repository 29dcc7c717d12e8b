// Opening a GPU device by `--backend` name. Each kind's code (and its optional package) is loaded only
// when asked for: gpu.js and Dawn take tens of milliseconds to load, and a machine may have neither.
import type { GpuDevice, GpuKind } from './device.js';

export async function openGpu(kind: GpuKind): Promise<GpuDevice> {
  if (kind === 'webgpu') return (await import('./webgpu/device.js')).openWebGpu();
  return (await import('./gpujs/device.js')).openGpuJs();
}
