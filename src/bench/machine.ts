// The machine a bench ran on, as its report shows it.
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { loadAddon } from '../native/addon.js';
import type { Machine } from './types.js';

export function describeMachine(): Machine {
  return {
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory_bytes: totalmem(),
    kernel: `${type()} ${release()}`,
    node: process.version,
    dispatch: loadAddon()?.cpuInfo().dispatch ?? null,
  };
}
