// Which GPU device runs a pass, once the op's spec is known: --backend gpu|webgpu opens its device or
// fails with one line (no adapter, package missing: exit 1; an op it has no kernel for: exit 2);
// --backend auto opens WebGPU (or gpu.js, with an X display) only when the calibration (auto.ts) says
// it beats the CPU, and stays silent otherwise. A device whose adapter answered but which then failed to open is not an error:
// the circuit breaker starts open (gpu/runner.ts) and the CPU runs the pass.
import { BigprocError, EXIT, usage } from '../errors.js';
import type { GpuRequest } from '../cli/backend.js';
import { GpuUnavailable, type GpuDevice, type GpuKind } from './device.js';
import { faultPlan, GpuFault } from './fault.js';
import { driverLoaded, openGpu } from './open.js';
import type { CalibrationInput } from './calibration-input.js';

export type { CalibrationInput };

export interface GpuSelection {
  device: GpuDevice;
  /** the device failed to open (its adapter answered): the runner sends every chunk to the CPU */
  openFailure: string | null;
}

/** A device that failed to open: it names its kind for the breaker's warning, and runs nothing. */
function standIn(kind: GpuKind, why: string): GpuDevice {
  return {
    kind,
    detail: 'not opened',
    refuses: () => null,
    run: () => Promise.reject(new GpuFault(why, true)),
    close: () => {},
  };
}

/** Open the device, with the test-only fault knob's `unavailable` and `open` failures injected here. */
async function openWithFaults(kind: GpuKind): Promise<GpuDevice> {
  const faults = faultPlan();
  if (faults.unavailable)
    throw new GpuUnavailable(`--backend ${kind}: no adapter (injected by BIGPROC_GPU_FAULT=unavailable)`);
  if (faults.open) throw new GpuFault('the device failed to open (injected by BIGPROC_GPU_FAULT=open)', true);
  return openGpu(kind);
}

/** pre: a pre-pass (hist's minmax range pass) the device refuses runs on the CPU (null), not an error. */
async function explicitGpu(kind: GpuKind, op: string, spec: unknown, pre: boolean): Promise<GpuSelection | null> {
  let device: GpuDevice;
  try {
    device = await openWithFaults(kind);
  } catch (e) {
    if (e instanceof GpuUnavailable) throw new BigprocError(e.message, EXIT.runtime);
    const why = e instanceof Error ? e.message : String(e);
    return { device: standIn(kind, why), openFailure: `the device failed to open: ${why}` };
  }
  const refusal = device.refuses(op, spec);
  if (refusal !== null) {
    device.close();
    if (pre) return null;
    throw usage(`--backend ${kind}: ${refusal}`);
  }
  return { device, openFailure: null };
}

export async function selectGpu(req: GpuRequest, c: CalibrationInput, pre = false): Promise<GpuSelection | null> {
  if (req.explicit) return explicitGpu(req.kind, c.op, c.spec, pre);
  const { autoGpu } = await import('./auto.js');
  // auto tries WebGPU, then gpu.js (which needs an X display): each calibrated and cached on its own.
  // Never both drivers in one process (see driverLoaded): gpu.js waits for a run that did not load Dawn.
  for (const kind of req.kind === 'webgpu' ? (['webgpu', 'gpu'] as const) : ([req.kind] as const)) {
    if (kind === 'gpu' && driverLoaded('webgpu')) break;
    const device = await autoGpu(kind, c, openWithFaults);
    if (device) return { device, openFailure: null };
  }
  return null;
}
