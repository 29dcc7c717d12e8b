// `--out DIR/ --format png`: one PNG per output frame, `frame-000123.png` named by the frame's index in
// the input file (zero-padded to 6 digits, more when needed), encoded by sharp (libvips), an optional
// dependency loaded only when a run asks for PNG. Written like every --out: into a temp directory
// beside DIR (`.DIR.bigproc-<host>-<pid>-<hex>.tmp`) that is renamed into place once every frame is
// encoded; a failed or interrupted run removes it, so DIR never holds half a result. DIR must be absent
// or an empty directory. Encoding runs on libuv's threads, the frames of one chunk at a time: write()
// reports the writer full until they are on disk, and the pass waits (backpressure), so what is held
// here is at most one chunk's frames (the share engine/memory-bound.ts counts for a draining writer).
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BigprocError, EXIT, runtime } from '../errors.js';
import { type OutputTarget, removeStaleTemps, tempPathFor, trackOutput, untrackOutput } from '../engine/output.js';
import { resolveOutTarget } from '../engine/out-target.js';
import { outDirError, renameDirIntoPlace } from '../engine/output-dir.js';
import { frameBytes, type Shape } from './steps.js';

/** The part of sharp's API used here (its types stay out of the build: sharp is optional). */
type SharpFn = (
  input: Uint8Array,
  options: { raw: { width: number; height: number; channels: 1 | 3 | 4 } },
) => SharpImage;
interface SharpImage {
  toColourspace(space: string): SharpImage;
  png(o?: { compressionLevel?: number }): { toFile(path: string): Promise<unknown> };
}

let sharpModule: SharpFn | null = null;

/**
 * Load sharp once (main thread). BIGPROC_SHARP_MODULE (tests) names another module to load instead,
 * so a machine that has sharp can check the message a machine without it gets.
 */
export async function loadSharp(): Promise<SharpFn> {
  if (sharpModule) return sharpModule;
  const name = process.env.BIGPROC_SHARP_MODULE || 'sharp';
  try {
    const m = (await import(name)) as { default?: SharpFn } | SharpFn;
    sharpModule = typeof m === 'function' ? m : m.default!;
  } catch (e) {
    throw new BigprocError(
      `--format png needs the optional package sharp, which did not load (${(e as Error).message.split('\n')[0]}): install it with \`npm install sharp\`, or write --format raw or npy`,
      EXIT.usage,
    );
  }
  return sharpModule!;
}

/** sharp, once loadSharp() has loaded it (prepare does, before the output is opened). */
export function loadedSharp(): SharpFn {
  if (!sharpModule) throw new Error('internal: sharp used before loadSharp()');
  return sharpModule;
}

/** `frame-000123.png`: the index zero-padded to 6 digits (more when it has more). */
export function pngName(index: number): string {
  return `frame-${String(index).padStart(6, '0')}.png`;
}

function checkTarget(path: string): void {
  try {
    const st = statSync(path);
    if (!st.isDirectory())
      throw outDirError(path, 'it exists and is not a directory (expected a new or empty directory for the PNG files)');
    if (readdirSync(path).length > 0)
      throw outDirError(path, 'the directory is not empty (expected a new or empty directory for the PNG files)');
  } catch (e) {
    if (e instanceof BigprocError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw outDirError(path, code ?? String(e));
  }
}

export class PngFramesDir implements OutputTarget {
  readonly tempPath: string;
  /** frames handed to the encoder so far */
  frames = 0;
  /** bytes of the PNG files written (known at commit) */
  bytes = 0;
  private pending = 0;
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];

  /** `every`: the output holds frames 0, every, 2·every… of the input (their indices name the files). */
  constructor(
    readonly path: string,
    private readonly shape: Shape,
    private readonly every: number,
    private readonly sharp: SharpFn,
  ) {
    if (resolveOutTarget(path, { directory: true }).kind !== 'directory')
      throw outDirError(
        path,
        'PNG files go into a directory: give --out a directory path (e.g. frames/), not a descriptor',
      );
    checkTarget(path);
    const abs = resolve(path);
    removeStaleTemps(abs);
    this.tempPath = tempPathFor(abs);
    try {
      mkdirSync(this.tempPath, { mode: 0o755 });
    } catch (e) {
      throw outDirError(path, (e as NodeJS.ErrnoException).code ?? String(e));
    }
    trackOutput(this);
  }

  /** Whole frames in file order; false while any wait for the encoder (see drained). */
  write(bytes: Uint8Array): boolean {
    if (this.failure) throw this.failure;
    const size = frameBytes(this.shape);
    const { width, height, channels } = this.shape;
    for (let at = 0; at < bytes.length; at += size) {
      const name = pngName(this.frames++ * this.every);
      // a copy: the chunk's buffer is not ours to keep while libvips reads it on another thread
      const frame = bytes.slice(at, at + size);
      this.pending++;
      const img = this.sharp(frame, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
      // one channel: a greyscale PNG (libvips would otherwise write it as RGB)
      (channels === 1 ? img.toColourspace('b-w') : img)
        .png({ compressionLevel: 6 })
        .toFile(join(this.tempPath, name))
        .then(
          () => this.settle(null),
          (e: Error) =>
            this.settle(runtime(`cannot write ${name} in --out ${JSON.stringify(this.path)}: ${e.message}`)),
        );
    }
    return this.pending === 0;
  }

  private settle(e: Error | null): void {
    this.pending--;
    if (e) this.failure ??= e;
    if (this.pending === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Every frame handed over is encoded (or failed: write or commit reports it). */
  async drained(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  private async allWritten(): Promise<void> {
    await this.drained();
    if (this.failure) throw this.failure;
  }

  /** Wait for every frame, then rename the directory into place (rename(2) replaces an empty one). */
  async commit(): Promise<void> {
    await this.allWritten();
    for (const name of readdirSync(this.tempPath)) this.bytes += statSync(join(this.tempPath, name)).size;
    renameDirIntoPlace(this.tempPath, this.path, () => untrackOutput(this));
  }

  abort(): void {
    if (!untrackOutput(this)) return;
    // Encodes already on libuv's threads may still create a file by its path while the directory is
    // being removed. Renamed away first, it can gain no new entry (the old path names nothing): then
    // removing it cannot race them.
    let doomed = this.tempPath;
    try {
      const away = tempPathFor(resolve(this.path));
      renameSync(this.tempPath, away);
      doomed = away;
    } catch {
      /* remove it where it is */
    }
    try {
      rmSync(doomed, { recursive: true, force: true, maxRetries: 5, retryDelay: 5 });
    } catch {
      /* already gone */
    }
  }
}
