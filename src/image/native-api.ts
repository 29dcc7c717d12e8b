// The native image kernel's signature (native/image.cc), kept beside the image code rather than in
// src/native/addon.ts so the image directory is self-contained.
import type { Addon, Ctl, Mapping } from '../native/addon.js';
import type { MapStep, ReduceName, Shape } from './steps.js';

export interface NativeImageSpec {
  steps: MapStep[];
  shapes: Shape[];
  /** '' for a map chain */
  reduce: ReduceName | '';
  perFrame: boolean;
}

export interface ImageKernel {
  /**
   * Run the chain over `records` frames: the output frames into `out` (records × the last shape's
   * bytes) when given; `values` the reduce results as in src/image/reduce.ts (empty for map chains).
   * null when cancelled through ctl.
   */
  image(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    spec: NativeImageSpec,
    out: Uint8Array | null,
    ctl?: Ctl | null,
  ): { values: Float64Array } | null;
}

export function imageKernel(addon: Addon): ImageKernel {
  return addon as unknown as ImageKernel;
}
