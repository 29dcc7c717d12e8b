// This process as the manifest names a lease's holder.
import { hostname } from 'node:os';
import type { Owner } from '../manifest/types.js';

export function owner(): Owner {
  return { host: hostname(), pid: process.pid };
}
