// The end of a shared run, on every host once its slots have nothing left to claim: report failed
// shards, or find the run's result — the one the host that completed the run stored, or, when none
// is stored yet, this host's own merge of every shard's partial in shard order (the same merge as a
// single-host run, so the same bits), stored for the others.
import type { AnyOp } from '../ops/types.js';
import type { Owner, RunManifest, ShardRow } from '../manifest/types.js';
import { POLL_FIRST_MS, POLL_MAX_MS } from './backoff.js';
import { foldShards } from './chunk-partials.js';
import { decodePartial } from './partial-codec.js';
import { assembleOutput, type OutputOwner } from './parts.js';
import type { ChangeWaiter, StopRequest } from './waiter.js';

export interface FinishInput {
  run: RunManifest;
  owner: Owner;
  op: AnyOp;
  spec: unknown;
  leaseMs: number;
  stop: StopRequest;
  out?: string;
  /** with --out: which run the output belongs to (written in a directory's _SUCCESS) */
  outOwner?: OutputOwner;
  /** a new waiter for the manifest's changes, a sibling's news or a stop */
  waiter: () => ChangeWaiter;
}

/** What this host did: committed the shard that completed the run, committed any shard at all. */
export interface HostPart {
  completed: boolean;
  committed: boolean;
}

export interface Ending {
  /** the run's final result once every shard is done (merged here or elsewhere), else null */
  result: unknown;
  /** this host stored the merged result */
  merged: boolean;
  /** the shards out of attempts */
  failed: ShardRow[];
  /** stopped by a signal before the run finished */
  stopped: boolean;
}

const stoppedEnding = (failed: ShardRow[] = []): Ending => ({ result: null, merged: false, failed, stopped: true });

export async function finishRun(f: FinishInput, here: HostPart): Promise<Ending> {
  if (f.stop.requested)
    return stoppedEnding((await f.run.shards().catch(() => [] as ShardRow[])).filter((r) => r.state === 'failed'));
  const rows = await f.run.shards();
  const failed = rows.filter((r) => r.state === 'failed');
  if (failed.length > 0) return { result: null, merged: false, failed, stopped: false };
  const tokens = rows.map((r) => r.token);
  // The host that completed the run is the one expected to merge: no result to look for yet.
  // A host that took part waits for it (awaitResult looks first); one that had nothing to do (a
  // re-run of a finished run) only looks.
  let stored = here.completed || here.committed ? null : await f.run.result();
  if (!here.completed && here.committed) {
    stored = await awaitResult(f);
    // stopped while waiting for another host's merge: leave the merge to it (or to the next run)
    if (stored === null && f.stop.requested) return stoppedEnding();
  }
  if (stored !== null) {
    assemble(f, tokens);
    return { result: JSON.parse(stored), merged: false, failed: [], stopped: false };
  }
  return mergeAndStore(f, tokens);
}

/**
 * The result the host that completed the run is storing: wait for it (woken by the manifest where it
 * can tell) rather than merge the same partials again. Past a third of a lease with nothing stored,
 * that host may have died after its commit: null, and this one merges after all.
 */
export async function awaitResult(f: Pick<FinishInput, 'run' | 'leaseMs' | 'stop' | 'waiter'>): Promise<string | null> {
  const deadline = Date.now() + Math.max(POLL_FIRST_MS, f.leaseMs / 3);
  const changed = f.waiter();
  changed.watch();
  let poll = POLL_FIRST_MS;
  for (;;) {
    const stored = await f.run.result();
    if (stored !== null || f.stop.requested || Date.now() >= deadline) return stored;
    await changed.or(Math.min(f.run.notifies?.() ? POLL_MAX_MS : poll, deadline - Date.now()));
    poll = Math.min(poll * 1.5, POLL_MAX_MS);
  }
}

/**
 * Every shard is done and nobody has merged yet: merge in shard order and store it. Two hosts may both
 * get here; the merge is deterministic, and only the first to store it reports it.
 */
async function mergeAndStore(f: FinishInput, tokens: number[]): Promise<Ending> {
  const result = await foldShards(f.op, f.spec, (await f.run.partials()).map(decodePartial));
  const merged = await f.run.storeResult(JSON.stringify(result), f.owner);
  assemble(f, tokens);
  const final = merged ? result : JSON.parse((await f.run.result()) ?? 'null');
  return { result: final, merged, failed: [], stopped: false };
}

/**
 * Every host that finishes makes sure the output is final before it exits (assembly is idempotent and
 * tolerates another host doing it at the same time).
 */
function assemble(f: FinishInput, tokens: number[]): void {
  if (f.out) assembleOutput(f.out, tokens, f.outOwner ?? { run_id: f.run.runId, fingerprint: '' });
}
