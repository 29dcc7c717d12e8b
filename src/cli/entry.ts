// The CLI bundle's entry (dist/cli.cjs): what bin/bigproc.mjs calls once the bundle is loaded.
export { main } from './main.js';
export { setImporter } from '../esm-import.js';

import { prestartFor } from '../engine/pool.js';
import { peekRunArgs } from '../config/run-args.js';

/** Before main(): start the worker pool (and a kernel's host thread) the command line will need. */
export function prestartForArgs(args: string[]): void {
  prestartFor(peekRunArgs(args));
}
