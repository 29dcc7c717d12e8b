// SIGINT: raise the cancel flag (workers stop within a block), remove any temp --out file, exit 130
// promptly. A second Ctrl-C exits at once.
import { abortAllOutputs } from '../engine/output.js';
import { EXIT } from '../errors.js';

export function onInterrupt(cancel: () => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    cancel();
    abortAllOutputs();
    if (count === 1) process.stderr.write(`bigproc: interrupted (${signal})\n`);
    // 130 for Ctrl-C as the contract says; 128 + 15 for SIGTERM, as shells report it.
    process.exit(signal === 'SIGTERM' ? 143 : EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
