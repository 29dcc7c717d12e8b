// Failures of a GPU device that has opened, and the test-only fault knob that injects them.
// BIGPROC_GPU_FAULT (tests only; never set it in production) takes a comma-separated list:
//   unavailable  opening the device reports no adapter (as a machine without one would)
//   open         opening the device fails after the adapter answered (the breaker sends every chunk to the CPU)
//   lost:N       the device is destroyed for real before chunk N (the next run fails as a lost device does)
//   chunk:N      the chunk with index N fails once on the GPU
//   every:K      every chunk whose index is a multiple of K fails on the GPU
//   all          every chunk fails on the GPU (the breaker trips after its consecutive-failure limit)
// The injected failures go through the same code as real ones: the runner cannot tell them apart.

/** A GPU failure after the device opened; `fatal` ones (device lost, shader compile) trip the breaker at once. */
export class GpuFault extends Error {
  override name = 'GpuFault';
  readonly fatal: boolean;
  constructor(message: string, fatal: boolean) {
    super(message);
    this.fatal = fatal;
  }
}

export interface FaultPlan {
  unavailable: boolean;
  open: boolean;
  lostAt: number | null;
  chunks: Set<number>;
  every: number | null;
  all: boolean;
}

export function faultPlan(text = process.env.BIGPROC_GPU_FAULT ?? ''): FaultPlan {
  const plan: FaultPlan = { unavailable: false, open: false, lostAt: null, chunks: new Set(), every: null, all: false };
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, arg] = item.split(':');
    const n = Number(arg);
    if (name === 'unavailable') plan.unavailable = true;
    else if (name === 'open') plan.open = true;
    else if (name === 'all') plan.all = true;
    else if (name === 'lost' && Number.isInteger(n)) plan.lostAt = n;
    else if (name === 'chunk' && Number.isInteger(n)) plan.chunks.add(n);
    else if (name === 'every' && Number.isInteger(n) && n > 0) plan.every = n;
  }
  return plan;
}

/** Whether the plan makes chunk `index` fail on the GPU (an injected kernel fault). */
export function chunkFaults(plan: FaultPlan, index: number): boolean {
  if (plan.all || plan.chunks.has(index)) return true;
  return plan.every !== null && index % plan.every === 0;
}
