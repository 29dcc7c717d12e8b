// The addon with every op's kernel typed (each declared next to its op), for tests that call the
// kernels directly rather than through an op.
import { loadAddon, type Addon } from '../../src/native/addon.js';
import type { StatsKernel } from '../../src/ops/stats.js';
import type { HistKernel } from '../../src/ops/hist.js';
import type { MinMaxKernel } from '../../src/ops/minmax.js';
import type { FilterKernel } from '../../src/ops/filter.js';
import type { TopKernel } from '../../src/ops/top.js';
import type { SampleKernel } from '../../src/ops/sample.js';
import type { GroupbyKernel } from '../../src/ops/groupby.js';
import type { ChecksumKernel } from '../../src/ops/checksum.js';
import type { ProjectKernel } from '../../src/ops/project.js';

export type Kernels = Addon &
  StatsKernel &
  HistKernel &
  MinMaxKernel &
  FilterKernel &
  TopKernel &
  SampleKernel &
  GroupbyKernel &
  ChecksumKernel &
  ProjectKernel;

/** loadAddon(), seen with the kernels' declared types (the addon exports every one of them). */
export function loadKernels(): Kernels | null {
  return loadAddon() as Kernels | null;
}
