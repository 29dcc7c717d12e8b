// Running one task (a chunk of an op, or a block of generated records): maps the file once per file,
// keeps the mapping for all its chunks, and runs the op's kernel (native or JS). A worker thread has
// one task host; so does the main thread when it runs the chunks itself (inline.ts). Errors come back
// as data so their codes survive the thread hop.
import { openSync, readSync, closeSync, writeSync } from 'node:fs';
import { loadAddon, type Addon, type Mapping } from '../native/addon.js';
import { getOp } from '../ops/registry.js';
import type { AnyOp, ChunkResult } from '../ops/types.js';
import { Control } from './control.js';
import type { ChunkDone, ChunkTask, GenTask, Task } from './protocol.js';
import { genJs } from '../gen/generate.js';

export interface TaskHost {
  run(task: Task): Promise<ChunkDone>;
  /** Close the mappings and files this host opened. */
  closeAll(): void;
}

export function createTaskHost(): TaskHost {
  return new FileTaskHost();
}

/** A task host's open files: one mapping (native) and one descriptor (JS reads, gen writes) per file. */
class FileTaskHost implements TaskHost {
  private readonly mappings = new Map<string, Mapping>();
  private readonly fds = new Map<string, number>();
  /** One reusable buffer per host: faulting in 64 MiB of fresh pages per chunk costs more than generating it. */
  private genScratch = new Uint8Array(0);

  async run(task: Task): Promise<ChunkDone> {
    try {
      return task.kind === 'gen' ? this.runGen(task) : await this.runChunk(task);
    } catch (e) {
      const err = e as Error & { code?: string };
      return {
        index: task.kind === 'gen' ? task.firstRecord : task.index,
        ms: 0,
        error: { message: err.message, code: err.code },
      };
    }
  }

  closeAll(): void {
    for (const m of this.mappings.values()) m.close();
    this.mappings.clear();
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private mappingFor(addon: Addon, file: string): Mapping {
    let m = this.mappings.get(file);
    if (!m) {
      m = new addon.Mapping(file);
      this.mappings.set(file, m);
    }
    return m;
  }

  private fdFor(file: string, flags: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      fd = openSync(file, flags);
      this.fds.set(file, fd);
    }
    return fd;
  }

  /**
   * Bytes of one chunk for the JS backend, read with pread rather than through the mapping: a file cut
   * short under a mapping raises SIGBUS in plain JS code, where no guard can catch it, while a short
   * read is an ordinary error.
   */
  private chunkBytes(t: ChunkTask, length: number): DataView {
    if (length === 0) return new DataView(new ArrayBuffer(0));
    const fd = this.fdFor(t.file, 'r');
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, t.offset + got);
      if (n === 0) throw Object.assign(new Error('the file shrank while it was being read'), { code: 'EFILECHANGED' });
      got += n;
    }
    return new DataView(buf.buffer, buf.byteOffset, length);
  }

  private async runChunk(t: ChunkTask): Promise<ChunkDone> {
    const start = performance.now();
    const ctl = new Control(t.ctl);
    if (ctl.cancelled()) return { index: t.index, ms: 0, cancelled: true };
    const op = getOp(t.op);
    if (op.load) await op.load(t.spec);
    const length = t.records * t.recordSize;
    let res: ChunkResult<unknown> | null;
    if (t.backend === 'native' && !op.jsOnly) {
      res = this.runNative(op, t, length);
      if (res === null) return { index: t.index, ms: performance.now() - start, cancelled: true };
    } else {
      const bytes = t.buffer ? new DataView(t.buffer, 0, length) : this.chunkBytes(t, length);
      res = op.js(
        t.spec,
        { bytes, records: t.records, recordSize: t.recordSize, firstRecord: t.firstRecord },
        t.wantOutput,
      );
      ctl.addBytes(length);
    }
    const done: ChunkDone = { index: t.index, partial: res.partial, ms: performance.now() - start };
    if (res.output) done.output = res.output;
    return done;
  }

  private runNative(op: AnyOp, t: ChunkTask, length: number): ChunkResult<unknown> | null {
    const addon = loadAddon();
    if (!addon) throw new Error('native backend requested but the addon is not loaded');
    // A block from a pipe is passed as a typed array over its shared buffer; the kernels accept both.
    const source = t.buffer ? new Uint8Array(t.buffer, 0, length) : this.mappingFor(addon, t.file);
    const res = op.native(
      t.spec,
      {
        addon,
        mapping: source,
        byteOffset: t.buffer ? 0 : t.offset,
        records: t.records,
        recordSize: t.recordSize,
        ctl: t.ctl,
        firstRecord: t.firstRecord,
        ...(t.outBuffer ? { outBuffer: t.outBuffer } : {}),
      },
      t.wantOutput,
    );
    // Done with these pages: drop their mappings now rather than all at exit (see dropPages).
    if (!t.buffer) (source as Mapping).dropPages(t.offset, length);
    return res;
  }

  private runGen(t: GenTask): ChunkDone {
    const start = performance.now();
    const ctl = new Control(t.ctl);
    if (ctl.cancelled()) return { index: t.firstRecord, ms: 0, cancelled: true };
    const bytes = t.records * t.recordSize;
    if (this.genScratch.length < bytes) this.genScratch = new Uint8Array(bytes);
    const buf = this.genScratch.subarray(0, bytes);
    const addon = t.backend === 'native' ? loadAddon() : null;
    if (addon) addon.gen(buf, t.firstRecord, t.records, t.recordSize, t.fields, t.seed);
    else genJs(buf, t.firstRecord, t.records, t.recordSize, t.fields, t.seed);
    const fd = this.fdFor(t.out, 'r+');
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, t.offset + done);
    ctl.addBytes(buf.length);
    return { index: t.firstRecord, ms: performance.now() - start };
  }
}
