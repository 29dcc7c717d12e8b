// Opening the input file for a run: existence checks with usage errors, the first bytes (for .npy
// detection), the layout and the chunk plan.
import { closeSync, openSync, readSync, statSync, statfsSync, type Stats } from 'node:fs';
import { kindOf } from '../engine/out-target.js';
import { BigprocError, EXIT, usage } from '../errors.js';
import { resolveLayout, type LayoutOptions } from '../layout/resolve.js';
import { isNpy, npyDataOffset } from '../layout/npy.js';
import type { Layout } from '../layout/types.js';
import type { ByteSource } from '../engine/byte-source.js';
import { planChunks, type ChunkPlan } from '../plan/chunks.js';
import { describeSystemError } from '../report/system-error.js';

export interface Input {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  identity: { size: number; mtimeMs: number };
}

const HEAD_BYTES = 64 * 1024;

function readHead(file: string, length: number): Buffer {
  const head = Buffer.alloc(length);
  if (length === 0) return head;
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, length, 0);
  } finally {
    closeSync(fd);
  }
  return head;
}

/** True for `--file -` and for a FIFO path: inputs read once, as a stream. */
export function isStreamInput(file: string): boolean {
  if (file === '-') return true;
  try {
    return statSync(file).isFIFO();
  } catch {
    return false;
  }
}

export interface StreamInput {
  file: string;
  source: ByteSource;
  layout: Layout;
  /** data bytes already read with the head (after the header) */
  prefix: Uint8Array;
  recordsPerChunk: number;
}

/** Open stdin or a FIFO: read its first bytes to find the layout (an .npy header works too). */
export async function openStream(file: string, layoutOpts: LayoutOptions, chunkSize: number): Promise<StreamInput> {
  const { openByteSource } = await import('../engine/byte-source.js');
  const source = openByteSource(file);
  let head = Buffer.alloc(HEAD_BYTES);
  head = head.subarray(0, await source.fill(head));
  if (isNpy(head) && head.length >= 12) {
    const dataOffset = npyDataOffset(head, file);
    if (dataOffset > head.length && head.length === HEAD_BYTES) {
      const more = Buffer.alloc(dataOffset - head.length);
      head = Buffer.concat([head, more.subarray(0, await source.fill(more))]);
    }
  }
  const label = file === '-' ? 'stdin' : file;
  const layout = resolveLayout(layoutOpts, head, label);
  if (head.length < layout.headerBytes) {
    throw usage(`${label} ended after ${head.length} bytes, inside its ${layout.headerBytes}-byte header`);
  }
  return {
    file,
    source,
    layout,
    prefix: head.subarray(layout.headerBytes),
    recordsPerChunk: Math.max(1, Math.floor(chunkSize / layout.recordSize)),
  };
}

/** Filesystems whose files report size 0 (or a made-up size) whatever they hold: /proc, /sys, … */
const PSEUDO_FS = new Set([
  0x9fa0 /* proc */, 0x62656572 /* sysfs */, 0x64626720 /* debugfs */, 0x74726163 /* tracefs */,
  0x73636673 /* securityfs */, 0x63677270 /* cgroup2 */, 0x27e0eb /* cgroup */, 0x62656570 /* configfs */,
  0xcafe4a11 /* bpf */,
]);

/**
 * --file is mapped: only a regular file with a real size can be. A device or socket would read as "0
 * records"; so would /proc's files. Say how to read them as a stream instead.
 */
function refuseUnmappable(file: string, st: Stats): void {
  const asStream = `to read it as a stream, use --file - < ${file}`;
  if (!st.isFile())
    throw usage(
      `Expected a regular file, a FIFO or - for --file but received ${JSON.stringify(file)}, which is ${kindOf(st)} (${asStream})`,
    );
  if (st.size === 0 && PSEUDO_FS.has(statfsSync(file).type)) {
    throw usage(
      `Expected a regular file for --file but received ${JSON.stringify(file)}, a file of a kernel filesystem whose size is not known (${asStream})`,
    );
  }
}

export function openInput(file: string, layoutOpts: LayoutOptions, chunkSize: number, allowPartial: boolean): Input {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new BigprocError(`cannot open --file ${JSON.stringify(file)}: ${describeSystemError(e)}`, EXIT.usage);
  }
  if (st.isDirectory()) throw usage(`Expected a file for --file but received the directory ${JSON.stringify(file)}`);
  refuseUnmappable(file, st);
  let head = readHead(file, Math.min(HEAD_BYTES, st.size));
  // An .npy header can outgrow the first read (numpy writes ~100 KB headers for thousands of fields).
  if (isNpy(head) && head.length >= 12) {
    const dataOffset = npyDataOffset(head, file);
    if (dataOffset > head.length && dataOffset <= st.size) head = readHead(file, dataOffset);
  }
  const layout = resolveLayout(layoutOpts, head, file);
  const plan = planChunks({
    fileSize: st.size,
    headerBytes: layout.headerBytes,
    recordSize: layout.recordSize,
    chunkSize,
    allowPartial,
    fileLabel: file,
  });
  if (layout.expectedRecords !== undefined && layout.expectedRecords !== plan.records) {
    throw usage(
      `${file}: the .npy header promises ${layout.expectedRecords} records but the file holds ${plan.records}`,
    );
  }
  warnTinyChunks(plan, chunkSize);
  return { file, layout, plan, identity: { size: st.size, mtimeMs: st.mtimeMs } };
}

const MANY_CHUNKS = 100_000;
const SMALL_CHUNK = 1024 * 1024;

/**
 * Tiny chunks are legal (tests use them to force many chunks, and a chunk is at least one record), but
 * a large file cut into millions of them spends minutes on per-chunk overhead: say so, once, on
 * stderr. Large chunk sizes never warn, however many chunks a huge file has.
 */
function warnTinyChunks(plan: ChunkPlan, chunkSize: number): void {
  if (plan.chunks.length <= MANY_CHUNKS || chunkSize >= SMALL_CHUNK) return;
  process.stderr.write(
    `bigproc: warning: --chunk-size ${chunkSize} cuts the file into ${plan.chunks.length} chunks of ${plan.recordsPerChunk} record(s); ` +
      `per-chunk overhead will dominate (the default is 64MiB)\n`,
  );
}
