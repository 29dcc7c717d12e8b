// The SharedArrayBuffer every worker and the main thread share: a progress counter (bytes done) and
// a cancel flag, read and written with Atomics. The native kernels use the same layout (native/control.h).
export const CTL_BYTES = 16;

export class Control {
  readonly sab: SharedArrayBuffer;
  private readonly progress: BigInt64Array;
  private readonly flag: Int32Array;

  constructor(sab = new SharedArrayBuffer(CTL_BYTES)) {
    this.sab = sab;
    this.progress = new BigInt64Array(sab, 0, 1);
    this.flag = new Int32Array(sab, 8, 1);
  }

  bytesDone(): number {
    return Number(Atomics.load(this.progress, 0));
  }

  addBytes(n: number): void {
    Atomics.add(this.progress, 0, BigInt(n));
  }

  resetProgress(): void {
    Atomics.store(this.progress, 0, 0n);
  }

  cancel(): void {
    Atomics.store(this.flag, 0, 1);
  }

  cancelled(): boolean {
    return Atomics.load(this.flag, 0) !== 0;
  }
}
