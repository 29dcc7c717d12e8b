// `--out FILE.npy`: the output frames behind an .npy header NumPy loads directly, shape (N, H, W) for
// one channel or (N, H, W, C). The frame count N is known only at the end, so a regular file gets a
// header of fixed length first (room for any N) and the real one written over it at commit, before
// the atomic rename. A stream (FIFO, stdout) cannot be rewritten: it needs N up front, which an .npy
// input promises; otherwise it is refused before any work.
import { writeSync } from 'node:fs';
import { AtomicFile, openOutTarget, type OutputTarget } from '../engine/output.js';
import { resolveOutTarget } from '../engine/out-target.js';
import { writeNpyRaw } from '../layout/npy.js';
import { runtime, usage } from '../errors.js';
import { frameBytes, type Shape } from './steps.js';

/** The header for `frames` frames of `shape`, its dict padded so every N gives the same length. */
export function npyFramesHeader(frames: number, shape: Shape): Uint8Array {
  const dims = (n: number) =>
    [n, shape.height, shape.width, ...(shape.channels > 1 ? [shape.channels] : [])].join(', ');
  const dict = (n: number) => `{'descr': '|u1', 'fortran_order': False, 'shape': (${dims(n)}), }`;
  return writeNpyRaw(dict(frames).padEnd(dict(Number.MAX_SAFE_INTEGER).length, ' '), new Uint8Array(0), 1);
}

export function isNpyPath(path: string): boolean {
  return /\.npy$/i.test(path);
}

export class NpyFramesOutput implements OutputTarget {
  private frames = 0;
  private readonly inner: OutputTarget;

  /** `knownFrames`: the frame count the input promises (an .npy input's shape), if any. */
  constructor(
    path: string,
    private readonly shape: Shape,
    private readonly knownFrames: number | undefined,
  ) {
    const target = resolveOutTarget(path);
    if (target.kind !== 'file' && knownFrames === undefined) {
      throw usage(
        `--out ${JSON.stringify(path)} is not a regular file: an .npy stream needs the frame count before the frames, which only an .npy input gives; write to a file`,
      );
    }
    this.inner = openOutTarget(target);
    this.inner.write(npyFramesHeader(knownFrames ?? 0, shape));
  }

  write(bytes: Uint8Array): boolean | undefined {
    this.frames += bytes.length / frameBytes(this.shape);
    return this.inner.write(bytes);
  }

  drained(): Promise<void> {
    return this.inner.drained?.() ?? Promise.resolve();
  }

  async commit(): Promise<void> {
    if (this.inner instanceof AtomicFile) {
      const header = npyFramesHeader(this.frames, this.shape);
      try {
        writeSync(this.inner.fd, header, 0, header.length, 0);
      } catch (e) {
        this.inner.abort();
        throw runtime(
          `cannot write the .npy header of --out ${JSON.stringify(this.inner.label)}: ${(e as Error).message}`,
        );
      }
    } else if (this.frames !== this.knownFrames) {
      this.inner.abort();
      throw runtime(`the .npy stream's header promised ${this.knownFrames} frames but ${this.frames} were written`);
    }
    await this.inner.commit();
  }

  abort(): void {
    this.inner.abort();
  }
}
