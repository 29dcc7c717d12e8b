// What --backend auto's calibration (auto.ts) is given by the GPU selection (select.ts).
import type { CpuBackend } from '../engine/protocol.js';

/** What auto's calibration needs: a sample of the file's records. */
export interface CalibrationInput {
  op: string;
  spec: unknown;
  recordSize: number;
  sample: () => Uint8Array;
  cpu: CpuBackend;
  /** threads the CPU backend would run on */
  threads: number;
  wantOutput: boolean;
  warn: (line: string) => void;
}
