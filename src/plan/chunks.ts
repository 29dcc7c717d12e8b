// The chunk plan: record-aligned byte ranges computed from the file alone (size, layout, chunk size),
// never from the worker count, so every run over the same file merges the same partials in the same order.
import { BigprocError, EXIT } from '../errors.js';

export interface Chunk {
  index: number;
  /** absolute byte offset in the file */
  offset: number;
  /** first record number (0-based, over the whole file) */
  firstRecord: number;
  records: number;
  bytes: number;
}

export interface ChunkPlan {
  recordSize: number;
  headerBytes: number;
  records: number;
  /** bytes of whole records (what gets processed) */
  dataBytes: number;
  /** bytes after the last whole record (only non-zero with allowPartial) */
  trailingBytes: number;
  recordsPerChunk: number;
  chunks: Chunk[];
}

export interface PlanInput {
  fileSize: number;
  headerBytes: number;
  recordSize: number;
  chunkSize: number;
  allowPartial: boolean;
  fileLabel: string;
}

export function planChunks(input: PlanInput): ChunkPlan {
  const { fileSize, headerBytes, recordSize, chunkSize, allowPartial, fileLabel } = input;
  if (headerBytes > fileSize) {
    throw new BigprocError(
      `${fileLabel} is ${fileSize} bytes, shorter than its ${headerBytes}-byte header`,
      EXIT.usage,
    );
  }
  const region = fileSize - headerBytes;
  const records = Math.floor(region / recordSize);
  const trailingBytes = region - records * recordSize;
  if (trailingBytes !== 0 && !allowPartial) {
    throw new BigprocError(
      `${fileLabel} has ${trailingBytes} trailing bytes after ${records} whole records of ${recordSize} bytes ` +
        `(data region ${region} bytes is not a multiple of the record size); pass --allow-partial to process the whole records`,
      EXIT.usage,
    );
  }
  // Chunks hold a whole number of records, at least one, even when a record is larger than the chunk size.
  const recordsPerChunk = Math.max(1, Math.floor(chunkSize / recordSize));
  const chunks: Chunk[] = [];
  for (let first = 0, index = 0; first < records; first += recordsPerChunk, index++) {
    const n = Math.min(recordsPerChunk, records - first);
    chunks.push({
      index,
      offset: headerBytes + first * recordSize,
      firstRecord: first,
      records: n,
      bytes: n * recordSize,
    });
  }
  return { recordSize, headerBytes, records, dataBytes: records * recordSize, trailingBytes, recordsPerChunk, chunks };
}

/** The same records cut into chunks of `recordsPerChunk` (smaller chunks, e.g. to fit --max-memory). */
export function rechunk(plan: ChunkPlan, recordsPerChunk: number): ChunkPlan {
  const chunks: Chunk[] = [];
  for (let first = 0, index = 0; first < plan.records; first += recordsPerChunk, index++) {
    const n = Math.min(recordsPerChunk, plan.records - first);
    chunks.push({
      index,
      offset: plan.headerBytes + first * plan.recordSize,
      firstRecord: first,
      records: n,
      bytes: n * plan.recordSize,
    });
  }
  return { ...plan, recordsPerChunk, chunks };
}
