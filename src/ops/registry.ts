// Every op by name: the one line to add when adding an op.
import type { AnyOp } from './types.js';
import { stats } from './stats.js';
import { hist } from './hist.js';
import { minmax } from './minmax.js';
import { filter } from './filter.js';
import { count } from './count.js';
import { checksum } from './checksum.js';
import { top } from './top.js';
import { groupby } from './groupby.js';
import { sample } from './sample.js';
import { project } from './project.js';
import { kernel } from './kernel.js';
import { pipeline, setPipelineRegistry } from './pipeline.js';
import { image, isImageChain } from '../image/index.js';
import { expected } from '../errors.js';
import { own } from '../keys.js';

export const OPS: Record<string, AnyOp> = {
  stats,
  hist,
  minmax,
  filter,
  kernel,
  pipeline,
  top,
  groupby,
  sample,
  project,
  count,
  checksum,
  image,
};

/** The registry key of an --op value: an image chain ('grey|blur:2') is the `image` op. */
export function opKey(name: string): string {
  return own(OPS, name) === undefined && isImageChain(name) ? 'image' : name;
}

export function getOp(name: string): AnyOp {
  const op = own(OPS, opKey(name)); // not `OPS[name]`: --op constructor must not find Object
  if (!op) throw expected('--op', `one of ${Object.keys(OPS).join(', ')}`, name);
  return op;
}

setPipelineRegistry(getOp);
