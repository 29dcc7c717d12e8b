// Where a streamed input's bytes come from. A pipe, FIFO, socket or terminal is read through libuv's
// event loop (a net.Socket, or process.stdin for a terminal), never with fs.read: a blocking read() parks a thread-pool
// thread until the writer sends more, and process.exit joins those threads, so Ctrl-C on an idle pipe
// would hang instead of exiting 130. A FIFO is opened O_NONBLOCK for the same reason (a blocking open
// waits for a writer with the signal handlers unable to run); until a writer connects, epoll reports
// nothing, so "no writer yet" is not mistaken for end of input. Regular files (stdin redirected from
// one) never block for long and are read straight into the caller's buffer.
//
// A pipe's kernel buffer is enlarged to 1 MiB where the system allows it: with the default 64 KiB the
// writer and this reader take turns every 64 KiB, and the pipe, not the kernels, sets the pace. The
// socket reads straight into the caller's block (net.Socket's `onread` buffer), up to the whole pipe
// per read, rather than through a stream of 64 KiB buffers that are then copied. Sources fill whole
// blocks (a read stops short only at end of input), which is what lets the socket keep reading into
// the rest of the block without a round trip through JavaScript per read.
import { closeSync, constants, fstatSync, openSync, read } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { isatty } from 'node:tty';
import type { Readable } from 'node:stream';
import { loadAddon } from '../native/addon.js';

/** 1 MiB, else 256 KiB (the unprivileged limit, /proc/sys/fs/pipe-max-size, is 1 MiB by default). */
function enlargePipe(fd: number): void {
  const addon = loadAddon();
  if (addon && addon.setPipeSize(fd, 1 << 20) < 0) addon.setPipeSize(fd, 1 << 18);
}

export interface ByteSource {
  /** Fill `block` from the input; returns the bytes read, fewer than its length only at end of input. */
  fill(block: Uint8Array): Promise<number>;
}

/** `-` for stdin, or the path of a FIFO. */
export function openByteSource(file: string): ByteSource {
  if (file !== '-') {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      enlargePipe(fd);
      return new PipeSource(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
  const st = fstatSync(0);
  if (st.isFile() || (st.isCharacterDevice() && !isatty(0))) return new FdSource(0);
  if (st.isFIFO()) {
    enlargePipe(0);
    return new PipeSource(0);
  }
  if (st.isSocket()) return new PipeSource(0);
  return new ReadableSource(process.stdin);
}

class FdSource implements ByteSource {
  constructor(private readonly fd: number) {}

  async fill(block: Uint8Array): Promise<number> {
    let got = 0;
    while (got < block.length) {
      const n = await this.read(block, got, block.length - got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  private read(buf: Uint8Array, offset: number, length: number): Promise<number> {
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

/**
 * A pipe or socket read straight into the block being filled. net.Socket asks for the buffer of its
 * next read right after each read completes: while a block has room that is the block's remainder;
 * otherwise a small scratch buffer, whose bytes are copied into the next block (at most one read's
 * worth per block). The socket is paused while no block is being filled, so nothing is read ahead of
 * the blocks the run has free (backpressure).
 */
class PipeSource implements ByteSource {
  private readonly socket: Socket;
  private readonly scratch = Buffer.allocUnsafe(64 << 10);
  /** the unfilled rest of the block being filled, as handed to the socket */
  private rest: Uint8Array | null = null;
  private got = 0;
  private waiting: { resolve: (n: number) => void; reject: (e: Error) => void } | null = null;
  /** bytes read into scratch that no block has taken yet */
  private spare: Uint8Array = new Uint8Array(0);
  private ended = false;
  private failed: Error | null = null;

  constructor(fd: number) {
    // (`onread` is a documented constructor option since Node 15; @types/node lists it for connect() only)
    const opts: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => (this.rest && this.rest.length > 0 ? this.rest : this.scratch),
        callback: (n: number, buf: Uint8Array) => this.arrived(n, buf),
      },
    };
    this.socket = new Socket(opts);
    this.socket.pause();
    this.socket.on('end', () => {
      this.ended = true;
      this.settle();
    });
    // Closed without an end of input (and without an error): the input is cut short, not complete.
    this.socket.on('close', () => {
      if (!this.ended && !this.failed) this.failed = new Error('the input was closed before its end');
      this.settle();
    });
    this.socket.on('error', (e) => {
      this.failed = e;
      this.settle();
    });
  }

  fill(block: Uint8Array): Promise<number> {
    if (this.waiting) return Promise.reject(new Error('PipeSource.fill: a fill is already in progress'));
    const n = Math.min(block.length, this.spare.length);
    block.set(this.spare.subarray(0, n));
    this.spare = this.spare.subarray(n);
    if (n === block.length) return Promise.resolve(n);
    if (this.failed) return Promise.reject(this.failed);
    if (this.ended) return Promise.resolve(n);
    return new Promise((resolve, reject) => {
      this.rest = block.subarray(n);
      this.got = n;
      this.waiting = { resolve, reject };
      this.socket.resume();
    });
  }

  /** One read's bytes: in the block itself, or in scratch. Returns false to pause the socket. */
  private arrived(n: number, buf: Uint8Array): boolean {
    const rest = this.rest;
    if (buf === rest) {
      this.rest = rest.subarray(n);
      this.got += n;
    } else {
      // Scratch: into the block as far as it goes, the remainder kept for the next block.
      const data = buf.subarray(0, n);
      const k = rest ? Math.min(rest.length, n) : 0;
      if (rest && k > 0) {
        rest.set(data.subarray(0, k));
        this.rest = rest.subarray(k);
        this.got += k;
      }
      if (k < n) this.spare = concat(this.spare, data.subarray(k));
    }
    if (this.rest && this.rest.length > 0) return true;
    this.finish();
    return false;
  }

  private finish(): void {
    const w = this.waiting;
    this.waiting = null;
    this.rest = null;
    w?.resolve(this.got);
  }

  /** End of input or an error: answer the fill in progress. */
  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.failed) {
      this.waiting = null;
      this.rest = null;
      w.reject(this.failed);
    } else {
      this.finish();
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A paused Readable (a terminal's process.stdin), pulled with read(): the stream buffers at most its high-water mark ahead. */
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

  async fill(block: Uint8Array): Promise<number> {
    let got = 0;
    while (got < block.length) {
      if (this.held === null || this.held.length === 0) this.held = this.stream.read() as Buffer | null;
      if (this.held !== null && this.held.length > 0) {
        const n = Math.min(block.length - got, this.held.length);
        block.set(this.held.subarray(0, n), got);
        this.held = this.held.subarray(n);
        got += n;
        continue;
      }
      if (this.failed) throw this.failed;
      if (this.ended) break;
      await new Promise<void>((r) => (this.waiter = r));
    }
    return got;
  }
}
