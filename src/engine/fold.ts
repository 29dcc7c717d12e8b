// Folding partial results, in chunk order, into one and finalizing it. A built-in op folds in the
// main thread (its merge is ours and quick); a user's kernel folds in a thread of its own (see
// kernel-host.ts), so that a merge or finalize that never returns leaves the main thread's event loop
// free to serve Ctrl-C. Either way the engine sees the same small interface.
import type { AnyOp, Fold } from '../ops/types.js';

// The interface lives with the op contract (ops/types.ts), which returns it from openFold.
export type { Fold };

/** init, merge and finalize called right here: for ops that run none of a user's code. */
export function localFold(op: AnyOp, spec: unknown): Fold {
  let acc: unknown = op.init(spec);
  return {
    add(partial) {
      acc = op.merge(spec, acc, partial);
    },
    state: async () => acc,
    result: async () => op.finalize(spec, acc),
    onError() {},
    close() {},
  };
}

/** The op's own fold where it has one (a user's kernel), else a local one. */
export function openFold(op: AnyOp, spec: unknown): Fold {
  return op.openFold?.(spec) ?? localFold(op, spec);
}
