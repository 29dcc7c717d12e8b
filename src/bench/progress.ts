// The bench's progress on stderr: a bar with the runs done and an ETA on a terminal, a line every
// tenth of the runs otherwise (logs), nothing with --quiet. The ETA assumes the runs left take as
// long as the runs so far did on average — fair, since every round runs every case.
export interface BenchProgress {
  phase(text: string): void;
  run(done: number, total: number, label: string, elapsedSeconds: number): void;
  done(): void;
}

export const SILENT: BenchProgress = { phase() {}, run() {}, done() {} };

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): BenchProgress {
  const tty = !!stream.isTTY;
  let lastTenth = -1;
  let onBar = false;
  const endBar = () => {
    if (onBar) stream.write('\n');
    onBar = false;
  };
  return {
    phase(text) {
      endBar();
      stream.write(`bench: ${text}\n`);
    },
    run(done, total, label, elapsed) {
      const eta = done > 0 ? formatEta((elapsed / done) * (total - done)) : '?';
      if (tty) {
        const width = 24;
        const filled = Math.round((done / total) * width);
        stream.write(
          `\r\u001b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} runs · ${label} · ETA ${eta}`,
        );
        onBar = true;
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) stream.write(`bench: ${done}/${total} runs, ETA ${eta}\n`);
      lastTenth = tenth;
    },
    done: endBar,
  };
}
