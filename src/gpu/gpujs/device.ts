// Placeholder until the gpu.js device lands (issue 15): says so, as an unavailable device does.
import { GpuUnavailable, type GpuDevice } from '../device.js';

export async function openGpuJs(): Promise<GpuDevice> {
  throw new GpuUnavailable('--backend gpu: not in this build yet');
}
