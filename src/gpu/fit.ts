// --max-memory on a device: how many records (frames, values) one batch or kernel call may take so its
// buffers fit the device's share of the bound. Shared by the WebGPU runners and the gpu.js kernels.

/** The largest count in [1, upper] whose `bytes(count)` fits `max`, or 0 when even 1 does not. */
export function largestFitting(upper: number, max: number, bytes: (count: number) => number): number {
  let lo = 0;
  let hi = Math.max(1, upper);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(mid) <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
