// Placeholder until the WebGPU device lands (issue 15): says so, as an unavailable device does.
import { GpuUnavailable, type GpuDevice } from '../device.js';

export async function openWebGpu(): Promise<GpuDevice> {
  throw new GpuUnavailable('--backend webgpu: not in this build yet');
}
