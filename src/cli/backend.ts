// Choosing the kernels: native when the addon loads, else JS with one warning line (for `auto`).
// `gpu` and `webgpu` (and `auto`, which may pick webgpu) also name a GPU to try: the device opens once
// the op's spec is known (gpu/select.ts), and the CPU backend chosen here runs whatever it does not.
import { loadAddon, addonLoadError } from '../native/addon.js';
import { BigprocError, EXIT, expected, usage } from '../errors.js';
import type { CpuBackend } from '../engine/protocol.js';
import type { GpuKind } from '../gpu/device.js';

export const BACKENDS = ['auto', 'native', 'js', 'gpu', 'webgpu'] as const;

/** A GPU to try for a run: `explicit` (--backend gpu|webgpu: failing to open it is an error) or auto's guess. */
export interface GpuRequest {
  kind: GpuKind;
  explicit: boolean;
}

export interface BackendChoice {
  /** the CPU backend: runs everything when no GPU does, and a GPU's fallback */
  backend: CpuBackend;
  detail?: string;
  gpu?: GpuRequest;
}

export function chooseBackend(
  requested: string,
  warn: (line: string) => void,
  gpuAllowed = true,
  imageKernels = false,
): BackendChoice {
  if (!(BACKENDS as readonly string[]).includes(requested))
    throw expected('--backend', `one of ${BACKENDS.join(', ')}`, requested);
  const gpuKind = requested === 'gpu' || requested === 'webgpu' ? (requested as GpuKind) : null;
  if (gpuKind && !gpuAllowed)
    throw usage(`--backend ${requested}: this command runs on the CPU only (auto, native or js)`);
  if (requested === 'js') return { backend: 'js' };
  const addon = loadAddon();
  const gpu: GpuRequest | undefined = gpuKind
    ? { kind: gpuKind, explicit: true }
    : requested === 'auto' && gpuAllowed && addon
      ? { kind: 'webgpu', explicit: false }
      : undefined;
  if (addon) {
    const cpu = addon.cpuInfo();
    return { backend: 'native', detail: imageKernels ? cpu.imageDispatch : cpu.dispatch, ...(gpu ? { gpu } : {}) };
  }
  if (requested === 'native') throw new BigprocError(`--backend native: ${addonLoadError()}`, EXIT.runtime);
  if (!gpuKind) warn(`warning: native kernels unavailable, using the JS backend: ${addonLoadError()}`);
  return { backend: 'js', ...(gpu ? { gpu } : {}) };
}
