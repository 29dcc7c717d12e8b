// --max-memory SIZE: a bound on the bytes a run holds for records in flight — each chunk dispatched and
// not yet merged holds its input and its output (records × (record bytes + output bytes per record)),
// and a writer that is draining (a PNG encoder, a slow pipe) holds one more chunk's output. Backpressure,
// not growth: when the default window of chunks (engine/pass.ts chunkWindow) times the chunk size does
// not fit, the chunks get smaller (fewer records each, the same window, so every worker stays busy);
// when even one record per chunk does not fit the window, the window shrinks; when one record does not
// fit, the run is refused before any work (exit 2).
import { usage } from '../errors.js';

export interface MemoryFit {
  recordsPerChunk: number;
  window: number;
}

export interface MemoryNeed {
  /** --max-memory in bytes */
  maxBytes: number;
  recordsPerChunk: number;
  window: number;
  /** input bytes per record (a frame) */
  inBytes: number;
  /** output bytes per record (0 without an output) */
  outBytes: number;
}

/** Bytes held with `rpc` records per chunk and `window` chunks in flight. */
export function heldBytes(n: Pick<MemoryNeed, 'inBytes' | 'outBytes'>, rpc: number, window: number): number {
  return window * rpc * (n.inBytes + n.outBytes) + rpc * n.outBytes;
}

export function fitMemory(n: MemoryNeed): MemoryFit {
  if (heldBytes(n, n.recordsPerChunk, n.window) <= n.maxBytes)
    return { recordsPerChunk: n.recordsPerChunk, window: n.window };
  const perChunkRecord = n.window * (n.inBytes + n.outBytes) + n.outBytes;
  const rpc = Math.floor(n.maxBytes / perChunkRecord);
  if (rpc >= 1) return { recordsPerChunk: rpc, window: n.window };
  const window = Math.floor((n.maxBytes - n.outBytes) / (n.inBytes + n.outBytes));
  if (window >= 1) return { recordsPerChunk: 1, window };
  throw usage(
    `--max-memory ${n.maxBytes} bytes is too small: one record in flight needs ${heldBytes(n, 1, 1)} bytes (${n.inBytes} bytes in${n.outBytes ? `, ${n.outBytes} out, and ${n.outBytes} more while the output drains` : ''}); give at least that`,
  );
}

export interface DeviceFit extends MemoryFit {
  /** the device's share: what the host's chunks and window leave of the bound */
  deviceBytes: number;
}

/**
 * A GPU run: the host's chunks and window (as fitMemory) and the device's buffers share the bound. The
 * host first gets half (or what the device's smallest batch leaves, when that is more than half), so
 * the device keeps room for batches of several records; the device gets whatever the host's chunking
 * does not use. `deviceNeed`: the device's buffers with one record per batch (GpuDevice.memoryNeed).
 */
export function fitMemoryWithDevice(n: MemoryNeed, deviceNeed: number, device: string): DeviceFit {
  const hostOne = heldBytes(n, 1, 1);
  if (hostOne + deviceNeed > n.maxBytes)
    throw usage(
      `--max-memory ${n.maxBytes} bytes is too small: one record in flight needs ${hostOne} bytes on the host and ${deviceNeed} in the ${device} device's buffers (its smallest batch, every buffer set); give at least ${hostOne + deviceNeed}`,
    );
  const half = n.maxBytes - Math.max(deviceNeed, Math.floor(n.maxBytes / 2));
  const hostMax = hostOne <= half ? half : n.maxBytes - deviceNeed;
  const fit = fitMemory({ ...n, maxBytes: hostMax });
  return { ...fit, deviceBytes: n.maxBytes - heldBytes(n, fit.recordsPerChunk, fit.window) };
}
