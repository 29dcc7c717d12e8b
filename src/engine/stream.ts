// Reading records from a pipe (--file -, or a FIFO): blocks of whole chunks are read into a small,
// fixed pool of SharedArrayBuffers (workers + 2 of them), handed to workers and recycled when their
// task finishes, so memory stays bounded and a slow consumer slows the reader (backpressure). Chunk
// boundaries fall where the mapped path puts them, so every op gives the same result either way.
import type { ByteSource } from './byte-source.js';
import type { ChunkFeed, FeedChunk } from './pass.js';
import { runtime } from '../errors.js';
import { describeSystemError } from '../report/system-error.js';

export interface StreamStats {
  /** bytes of whole records read */
  dataBytes: number;
  records: number;
  chunks: number;
  /** bytes after the last whole record (at end of input) */
  trailingBytes: number;
}

export class StreamFeed implements ChunkFeed {
  wake?: () => void;
  error: Error | null = null;
  readonly stats: StreamStats = { dataBytes: 0, records: 0, chunks: 0, trailingBytes: 0 };
  private readonly free: SharedArrayBuffer[] = [];
  private readonly ready: FeedChunk[] = [];
  private reading = false;
  private eof = false;
  private pending: Uint8Array;

  /**
   * @param prefix bytes already read from the stream that belong to the data region (after any header)
   */
  constructor(
    private readonly source: ByteSource,
    private readonly recordSize: number,
    private readonly chunkBytes: number,
    buffers: number,
    prefix: Uint8Array,
  ) {
    for (let i = 0; i < buffers; i++) this.free.push(new SharedArrayBuffer(chunkBytes));
    this.pending = prefix;
    this.fill();
  }

  take(): FeedChunk | 'later' | 'end' {
    const c = this.ready.shift();
    if (c) return c;
    return this.eof && !this.reading ? 'end' : 'later';
  }

  release(chunk: FeedChunk): void {
    if (chunk.buffer) this.free.push(chunk.buffer);
    this.fill();
  }

  private fill(): void {
    if (this.reading || this.eof || this.error || this.free.length === 0) return;
    const sab = this.free.pop()!;
    this.reading = true;
    const view = new Uint8Array(sab);
    const head = Math.min(this.pending.length, this.chunkBytes);
    view.set(this.pending.subarray(0, head));
    this.pending = this.pending.subarray(head);
    this.source.fill(view.subarray(head)).then(
      (n) => {
        this.reading = false;
        const bytes = head + n;
        if (bytes < this.chunkBytes) this.eof = true;
        const records = Math.floor(bytes / this.recordSize);
        if (this.eof) this.stats.trailingBytes = bytes - records * this.recordSize;
        if (records > 0) {
          this.ready.push({
            index: this.stats.chunks,
            offset: 0,
            firstRecord: this.stats.records,
            records,
            buffer: sab,
          });
          this.stats.chunks++;
          this.stats.records += records;
          this.stats.dataBytes += records * this.recordSize;
        } else {
          this.free.push(sab);
        }
        this.fill();
        this.wake?.();
      },
      (e: NodeJS.ErrnoException) => {
        this.reading = false;
        this.error = runtime(`cannot read the input: ${describeSystemError(e)}`);
        this.wake?.();
      },
    );
  }
}
