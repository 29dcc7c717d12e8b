// The progress bar: on stderr, only on a TTY and without --quiet. It polls the shared progress counter
// (bytes done) rather than listening to per-chunk messages.
import type { Control } from '../engine/control.js';

export interface ProgressBar {
  start(label: string, totalBytes: number): void;
  stop(): void;
}

const NOOP: ProgressBar = { start() {}, stop() {} };

export async function createProgress(ctl: Control, enabled: boolean): Promise<ProgressBar> {
  if (!enabled || !process.stderr.isTTY) return NOOP;
  const { default: cliProgress } = await import('cli-progress');
  const color = !process.env.NO_COLOR;
  let bar: InstanceType<typeof cliProgress.SingleBar> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let t0 = 0;
  const gb = (b: number) => (b / 1e9).toFixed(2);
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
    if (bar) {
      bar.update(ctl.bytesDone(), rate());
      bar.stop();
    }
    bar = null;
  };
  const rate = () => {
    const s = (performance.now() - t0) / 1000;
    return { gb: gb(ctl.bytesDone()), gbps: s > 0 ? (ctl.bytesDone() / s / 1e9).toFixed(2) : '0.00' };
  };
  return {
    start(label, total) {
      stop();
      t0 = performance.now();
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${label} ${color ? '\u001b[36m{bar}\u001b[0m' : '{bar}'} {percentage}% | {gb}/${gb(total)} GB | {gbps} GB/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0, rate());
      timer = setInterval(() => bar?.update(ctl.bytesDone(), rate()), 100);
      timer.unref();
    },
    stop,
  };
}
