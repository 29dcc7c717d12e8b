// Where a streamed input's bytes come from. A pipe, FIFO, socket or terminal is read through libuv's
// event loop (a net.Socket / process.stdin), never with fs.read: a blocking read() parks a thread-pool
// thread until the writer sends more, and process.exit joins those threads, so Ctrl-C on an idle pipe
// would hang instead of exiting 130. A FIFO is opened O_NONBLOCK for the same reason (a blocking open
// waits for a writer with the signal handlers unable to run); until a writer connects, epoll reports
// nothing, so "no writer yet" is not mistaken for end of input. Regular files (stdin redirected from
// one) never block for long and are read straight into the caller's buffer.
//
// A pipe's kernel buffer is enlarged to 1 MiB where the system allows it: with the default 64 KiB the
// writer and this reader take turns every 64 KiB, and the pipe, not the kernels, sets the pace.
import { constants, fstatSync, openSync, read } from 'node:fs';
import { Socket } from 'node:net';
import { isatty } from 'node:tty';
import type { Readable } from 'node:stream';
import { loadAddon } from '../native/addon.js';

/** 1 MiB, else 256 KiB (the unprivileged limit, /proc/sys/fs/pipe-max-size, is 1 MiB by default). */
function enlargePipe(fd: number): void {
  const addon = loadAddon();
  if (addon && addon.setPipeSize(fd, 1 << 20) < 0) addon.setPipeSize(fd, 1 << 18);
}

export interface ByteSource {
  /** Up to `length` bytes into buf at offset; 0 only at end of input. */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>;
}

/** `-` for stdin, or the path of a FIFO. */
export function openByteSource(file: string): ByteSource {
  if (file !== '-') {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    enlargePipe(fd);
    return new ReadableSource(new Socket({ fd, readable: true, writable: false }));
  }
  const st = fstatSync(0);
  if (st.isFile() || (st.isCharacterDevice() && !isatty(0))) return new FdSource(0);
  if (st.isFIFO()) enlargePipe(0);
  return new ReadableSource(process.stdin);
}

/** Read until `length` bytes or end of input; returns how many were read. */
export async function readFull(src: ByteSource, buf: Uint8Array, offset: number, length: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const n = await src.read(buf, offset + got, length - got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

class FdSource implements ByteSource {
  constructor(private readonly fd: number) {}

  read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    return new Promise((resolve, reject) => {
      read(this.fd, buf, offset, length, null, (err, n) => {
        // A descriptor inherited in non-blocking mode (a character device) can answer EAGAIN.
        if (err?.code === 'EAGAIN') setTimeout(() => this.read(buf, offset, length).then(resolve, reject), 5);
        else if (err) reject(err);
        else resolve(n);
      });
    });
  }
}

/** A paused Readable, pulled with read(): the stream buffers at most its high-water mark ahead. */
class ReadableSource implements ByteSource {
  private held: Buffer | null = null;
  private ended = false;
  private failed: Error | null = null;
  private waiter: (() => void) | null = null;

  constructor(private readonly stream: Readable) {
    const wake = () => {
      const w = this.waiter;
      this.waiter = null;
      w?.();
    };
    stream.on('readable', wake);
    stream.on('end', () => {
      this.ended = true;
      wake();
    });
    stream.on('error', (e) => {
      this.failed = e;
      wake();
    });
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    for (;;) {
      if (this.held === null || this.held.length === 0) this.held = this.stream.read() as Buffer | null;
      if (this.held !== null && this.held.length > 0) {
        const n = Math.min(length, this.held.length);
        buf.set(this.held.subarray(0, n), offset);
        this.held = this.held.subarray(n);
        return n;
      }
      if (this.failed) throw this.failed;
      if (this.ended) return 0;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
