// --exclusive NAME: run only while holding a named guard (in the manifest, or a lock directory), so a
// second invocation exits 75 saying who holds it. The guard is renewed by the same lease keeper as a
// shard's lease.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../manifest/open.js';
import { FileStore } from '../manifest/file.js';
import { abortAllOutputs } from '../engine/output.js';
import { BigprocError, EXIT, errorLine, runtime } from '../errors.js';
import { keepLease } from './lease-keeper.js';
import { owner } from './owner.js';

export interface ExclusiveArgs {
  name: string;
  leaseMs: number;
  /** the --manifest holding the guard; else the lock directory */
  manifest?: string;
}

/** Run fn while holding the named guard; a second invocation exits 75 saying who holds it. */
export async function withExclusive(args: ExclusiveArgs, fn: () => Promise<void>): Promise<void> {
  const { name, leaseMs } = args;
  const store = args.manifest
    ? await openStore(args.manifest)
    : new FileStore(process.env.BIGPROC_LOCK_DIR ?? join(tmpdir(), 'bigproc-locks'), {
        label: 'the --exclusive lock directory (BIGPROC_LOCK_DIR)',
      });
  const g = await store.guard(name, owner(), leaseMs);
  if (g.kind === 'busy') {
    await store.close();
    throw new BigprocError(
      `--exclusive ${name}: another invocation holds it (host ${g.holder.host}, pid ${g.holder.pid}, since ${new Date(g.since).toISOString()})`,
      EXIT.locked,
    );
  }
  const keeper = keepLease({
    leaseMs,
    renew: async () => ((await g.guard.renew()) ? 'ok' : 'lost'),
    onLost: () => {
      abortAllOutputs();
      process.stderr.write(
        `bigproc: lost --exclusive ${name}: its lease expired and another invocation took it; stopping\n`,
      );
      process.exit(EXIT.runtime);
    },
    onRenewError: (e) => {
      process.stderr.write(errorLine(`warning: cannot renew --exclusive ${name}: ${(e as Error).message}`));
      return true;
    },
  });
  // An interrupted run gives the guard back too (the file store's release is synchronous).
  const onExit = () => void g.guard.release().catch(() => {});
  process.once('exit', onExit);
  try {
    await fn();
  } finally {
    keeper.end();
    process.off('exit', onExit);
    await g.guard.release().catch((e) => {
      throw runtime(`cannot release --exclusive ${name}: ${(e as Error).message}`);
    });
    await store.close();
  }
}
