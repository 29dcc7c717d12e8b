// --backend auto and the GPU: native unless a WebGPU adapter (or, with an X display, gpu.js) answers
// *and* a short calibration shows it faster for this op at this record (frame) size. The verdict is cached per machine in
// $XDG_CACHE_HOME/bigproc/gpu-calibration.json (~/.cache/bigproc/ by default), so later runs neither
// calibrate nor (when native won) open the device at all. A software renderer (llvmpipe) is no GPU: it is
// noted once per machine and kind, and auto then stays on native without opening it or calibrating
// (BIGPROC_GPU_CALIBRATE_SOFTWARE=1, for tests, calibrates it anyway: native wins).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../native/addon.js';
import { getOp } from '../ops/registry.js';
import { Control } from '../engine/control.js';
import { GpuUnavailable, type GpuDevice, type GpuKind } from './device.js';
import type { CalibrationInput } from './calibration-input.js';
import { isSoftwareRenderer } from './software.js';

interface Verdict {
  winner: 'native' | GpuKind;
  /** MB/s of each side on the sample (absent when the device refused the op) */
  cpu_mbps?: number;
  gpu_mbps?: number;
  detail?: string;
}

/** Sample size: enough for a few GPU dispatches, small enough to cost well under a second on llvmpipe. */
export const SAMPLE_BYTES = 4 * 1024 * 1024;
/** The GPU must win by this margin: a near tie is not worth the device's start-up. */
const MARGIN = 1.2;
/** The ops each GPU device has a kernel for; every other op stays on the CPU without opening one. */
const GPU_OPS: Record<GpuKind, string[]> = {
  webgpu: ['image', 'hist', 'minmax', 'filter', 'count'],
  gpu: ['image', 'hist', 'minmax', 'filter', 'count'],
};

/** The kind has a kernel for op (a pre-pass runs there only then; its main pass would be refused). */
export function gpuRuns(kind: GpuKind, op: string): boolean {
  return GPU_OPS[kind].includes(op);
}

/** The cache entry saying a kind's device here is a software renderer. */
const softwareKey = (kind: GpuKind) => `${kind}:software-renderer`;
const calibrateSoftware = () => process.env.BIGPROC_GPU_CALIBRATE_SOFTWARE === '1';

export function cacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bigproc', 'gpu-calibration.json');
}

function readCache(): Record<string, Verdict> {
  try {
    return JSON.parse(readFileSync(cacheFile(), 'utf8')) as Record<string, Verdict>;
  } catch {
    return {};
  }
}

/** Best effort: a cache that cannot be written only means the next run calibrates again. */
function writeVerdict(key: string, v: Verdict): void {
  try {
    const file = cacheFile();
    mkdirSync(join(file, '..'), { recursive: true });
    const all = { ...readCache(), [key]: v };
    writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(all, null, 1)}\n`);
    renameSync(`${file}.${process.pid}`, file);
  } catch {}
}

/** The cache key: the op, its prepared spec (chain, edges …) and the record size. */
export function calibrationKey(kind: GpuKind, c: CalibrationInput): string {
  const spec = createHash('sha256')
    .update(JSON.stringify(c.spec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex')
    .slice(0, 16);
  return `${kind}:${c.op}:${c.recordSize}:${spec}`;
}

/** The best of a few timed runs, in ms. */
async function bestMs(runs: number, f: () => unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

async function calibrate(device: GpuDevice, c: CalibrationInput): Promise<Verdict> {
  const sample = c.sample();
  const records = Math.floor(sample.length / c.recordSize);
  if (records === 0) return { winner: 'native' };
  const op = getOp(c.op);
  const addon = loadAddon()!;
  const ctl = new Control().sab;
  const cpuMs = await bestMs(3, () =>
    op.native(
      c.spec,
      { addon, mapping: sample, byteOffset: 0, records, recordSize: c.recordSize, ctl, firstRecord: 0 },
      c.wantOutput,
    ),
  );
  const chunk = {
    op: c.op,
    spec: c.spec,
    bytes: sample,
    records,
    recordSize: c.recordSize,
    firstRecord: 0,
    wantOutput: c.wantOutput,
  };
  await device.run(chunk);
  const gpuMs = await bestMs(2, () => device.run(chunk));
  const mbps = (ms: number) => Math.round(sample.length / 1e3 / Math.max(ms, 1e-3));
  const cpu = mbps(cpuMs) * c.threads;
  const gpu = mbps(gpuMs);
  return { winner: gpu > cpu * MARGIN ? device.kind : 'native', cpu_mbps: cpu, gpu_mbps: gpu, detail: device.detail };
}

/** The device auto runs on, or null for native (no adapter, no kernel for the op, or slower). */
export async function autoGpu(
  kind: GpuKind,
  c: CalibrationInput,
  open: (kind: GpuKind) => Promise<GpuDevice>,
): Promise<GpuDevice | null> {
  // Only ops with a kernel on this kind are worth opening a device for (see webgpu/ and gpujs/device.ts).
  if (c.cpu !== 'native' || !GPU_OPS[kind].includes(c.op)) return null;
  // gpu.js needs an X display; without one it is simply absent (no probe, no verdict cached)
  if (kind === 'gpu' && !process.env.DISPLAY) return null;
  const key = calibrationKey(kind, c);
  const cache = readCache();
  const cached = cache[key];
  if (cached?.winner === 'native' || (cache[softwareKey(kind)] && !calibrateSoftware())) return null;
  let device: GpuDevice;
  try {
    device = await open(kind);
  } catch (e) {
    // No adapter here is the common case: silence. A device that answered and failed is worth a line.
    if (!(e instanceof GpuUnavailable))
      c.warn(`warning: --backend auto: the ${kind} device failed to open (${(e as Error).message}); running on native`);
    return null;
  }
  if (cached) return device;
  if (isSoftwareRenderer(device.detail) && !calibrateSoftware()) {
    writeVerdict(softwareKey(kind), { winner: 'native', detail: device.detail });
    device.close();
    return null;
  }
  let verdict: Verdict;
  try {
    verdict = device.refuses(c.op, c.spec) !== null ? { winner: 'native' } : await calibrate(device, c);
  } catch {
    verdict = { winner: 'native' };
  }
  writeVerdict(key, verdict);
  if (verdict.winner === 'native') {
    device.close();
    return null;
  }
  return device;
}
