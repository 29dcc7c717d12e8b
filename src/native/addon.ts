// Loader and core types for the native addon (build/Release/bigproc.node): mmap'd files, the CPU the
// kernels dispatch for, the synthetic-record generator and the pipe and baseline helpers. Each op's
// kernel is declared next to the op (e.g. StatsKernel in src/ops/stats.ts), which is where its
// argument and result types live: an op reaches it as `chunk.addon` typed `Addon & ItsKernel`.
// loadAddon() returns null (never throws) when the addon is missing or broken; addonLoadError() then
// says why and what to run.

import { packageRoot } from '../package-root.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { GenField } from '../gen/generate.js';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/**
 * Progress/cancel block shared with the kernels: a SharedArrayBuffer of at least 12 bytes, laid out as
 * engine/control.ts's Control (its .sab) and native/control.h read it. The kernels also accept a typed
 * array over such a buffer (8-byte aligned), or undefined/null.
 */
export type Ctl = SharedArrayBuffer;

/** What a kernel reads records from: the mapped file, or a typed array over a block read from a pipe. */
export type KernelSource = Mapping | Uint8Array;

/**
 * A kernel's leading arguments, shared by every op's kernel: (source, byteOffset, records, recordSize).
 * A kernel checks that byteOffset + records*recordSize fits the source (TypeError otherwise), takes
 * its own arguments, then ctl last, and returns null when cancelled through ctl. A file that shrinks
 * under the mapping makes it throw an Error with code 'EFILECHANGED'.
 */
export type KernelSpan = [source: KernelSource, byteOffset: number, records: number, recordSize: number];

export interface MappingStat {
  size: number;
  mtimeMs: number;
}

/** A read-only mmap of a whole file. */
export interface Mapping {
  /** bytes, from the fstat at open */
  readonly size: number;
  /** from the fstat at open */
  readonly mtimeMs: number;
  /** fresh fstat of the open file (detects a file changed during a run); throws after close() */
  stat(): MappingStat;
  /**
   * Zero-copy ArrayBuffer over [offset, offset + length) of the mapping. Read-only memory: do not write
   * to it, and do not use it after close().
   */
  view(offset: number, length: number): ArrayBuffer;
  /** munmap + close (idempotent); later kernel calls throw */
  close(): void;
  /** drop the page-table entries of the pages wholly inside the range (the data stays cached) */
  dropPages(offset: number, length: number): void;
}

export interface MappingConstructor {
  /** Throws Error `cannot map <path>: <reason>` with `code` (ENOENT, EACCES, EISDIR…). */
  new (path: string): Mapping;
}

export interface CpuInfo {
  arch: string;
  features: string[];
  /** the kernel clone chosen on this machine */
  dispatch: 'avx512f' | 'avx2' | 'default' | 'neon';
  /** the image kernels' own instruction set (their 16-bit and byte SIMD; BIGPROC_IMAGE_ISA may lower it) */
  imageDispatch: 'avx512vbmi' | 'avx512bw' | 'avx2' | 'default' | 'neon';
}

/**
 * The native module's own functions. Its kernels (one per op, registered by native/<op>.cc) are typed
 * by the op that calls them: see KernelSpan and, e.g., StatsKernel in src/ops/stats.ts.
 */
export interface Addon {
  cpuInfo(): CpuInfo;
  Mapping: MappingConstructor;
  /** Fill target[0 .. records*recordSize) with records firstRecord .. firstRecord+records-1. */
  gen(
    target: Uint8Array,
    firstRecord: number,
    records: number,
    recordSize: number,
    fields: GenField[],
    seed: bigint,
  ): void;
  /** The benchmarks' memory-read baseline: Σ of `words` 64-bit words from byteOffset, mod 2^64 (recordSize must be 8). */
  readBaseline(mapping: Mapping, byteOffset: number, words: number, recordSize: 8): bigint;
  /** Resize a pipe's kernel buffer (Linux F_SETPIPE_SZ): the new capacity in bytes, or -1. */
  setPipeSize(fd: number, bytes: number): number;
  /** Start writing a file range to its disk now, without waiting (Linux sync_file_range): whether it was taken. */
  startWriteback(fd: number, offset: number, bytes: number): boolean;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

const REBUILD_HINT = 'run "npm rebuild bigproc" (needs python3, make and a C++ compiler)';

let loaded: Addon | null | undefined;
let loadError: string | null = null;

/** The bigproc package root: walk up from this file until a package.json named "bigproc". */
function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]?.trim() ?? message;
}

/** The native addon, or null when it cannot be loaded (see addonLoadError()). Cached. */
export function loadAddon(): Addon | null {
  if (loaded !== undefined) return loaded;
  // BIGPROC_ADDON names another build of the addon (e.g. a debug build) to load instead.
  const override = process.env.BIGPROC_ADDON;
  const root = override ? '' : packageRoot();
  if (root === null) {
    loadError = `native addon not found (no package.json named "bigproc" above ${fileURLToPath(import.meta.url)}): ${REBUILD_HINT}`;
    loaded = null;
    return loaded;
  }
  const file = override || join(root, 'build', 'Release', 'bigproc.node');
  if (!existsSync(file)) {
    loadError = `native addon not built (${file} is missing): ${REBUILD_HINT}`;
    loaded = null;
    return loaded;
  }
  try {
    const nodeRequire = createRequire(import.meta.url);
    loaded = nodeRequire(file) as Addon;
    loadError = null;
  } catch (e) {
    loadError = `native addon failed to load (${firstLine(e)}): ${REBUILD_HINT}`;
    loaded = null;
  }
  return loaded;
}

/** One line saying why loadAddon() returned null and what to run; null when it loaded. */
export function addonLoadError(): string | null {
  if (loaded === undefined) loadAddon();
  return loadError;
}
