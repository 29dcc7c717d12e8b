// The CLI bundle's entry (dist/cli.cjs): what bin/bigproc.mjs calls once the bundle is loaded.
export { main } from './main.js';
export { prestartForArgs } from '../engine/pool.js';
export { setImporter } from '../esm-import.js';
