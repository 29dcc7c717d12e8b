// How long a host waits: before a failed shard's next attempt, between looks at a manifest while
// others hold the last shards, and how many tiny shards it claims at once. Pure functions of what the
// host has seen, so each is tested on its own.

/** The longest retry delay, whatever the attempt count: a shard is never parked for more than a minute. */
export const MAX_RETRY_MS = 60_000;

/**
 * The delay before the next attempt at a shard after its `failures`-th failure (counted over every
 * host, as the manifest records them): `baseMs` doubled per earlier failure, capped at MAX_RETRY_MS,
 * times a jitter of 0.5–1.5 so hosts that failed together do not retry together.
 */
export function retryDelay(baseMs: number, failures: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_RETRY_MS, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp * (0.5 + random()));
}

// Polling while others hold the last shards: quick at first (the run is probably about to end), then
// backing off so a thousand idle hosts do not hammer the manifest — but never to more than a quarter
// of the time a shard takes here, since the others' last shards end within about that long, and every
// host waits for the end (to take over a crashed host's shards) before it exits.
//
// Where the manifest notifies every change a waiting host could act on (run.notifies: PostgreSQL once
// LISTEN is in place), the host sleeps until told, polling only every POLL_MAX_MS as a fallback.
export const POLL_FIRST_MS = 20;
export const POLL_MAX_MS = 1000;

/** The poll interval after `pollMs`: 1.5 times longer, at most POLL_MAX_MS and a quarter of a shard's time here. */
export function nextPoll(pollMs: number, shardMs: number): number {
  return Math.min(POLL_MAX_MS, pollMs * 1.5, shardMs > 0 ? Math.max(POLL_FIRST_MS, shardMs / 4) : Infinity);
}

/**
 * How long to sleep before looking at the manifest again: what the manifest asked (`askedMs`, the
 * next lease expiry or retry), cut to the poll interval with a jitter of up to +50% — or to
 * POLL_MAX_MS where the manifest wakes waiting hosts itself.
 */
export function pollWait(
  askedMs: number,
  pollMs: number,
  notifies: boolean,
  random: () => number = Math.random,
): number {
  return Math.min(askedMs, notifies ? POLL_MAX_MS : pollMs * (1 + random() * 0.5));
}

// Tiny shards are claimed (and committed) several at a time, so the manifest's cost per statement
// (on Postgres, one durable WAL flush per claim) is shared by the batch. A batch is sized to take
// about BATCH_BUDGET_MS of work, so a host never sits on much that idle hosts could have taken;
// shards of ordinary size (tens of milliseconds and more) are claimed one at a time.
export const BATCH_BUDGET_MS = 50;
export const MAX_BATCH = 64;

/** The next claim's batch size: doubled while a batch takes less than BATCH_BUDGET_MS, at most MAX_BATCH. */
export function nextBatch(batch: number, msPerShard: number): number {
  return Math.max(1, Math.min(MAX_BATCH, batch * 2, Math.floor(BATCH_BUDGET_MS / Math.max(msPerShard, 1e-3))));
}

/** A running average of the wall time per shard (0 before the first): weighs the latest batch by 0.3. */
export function averageShardMs(avgMs: number, latestMs: number): number {
  return avgMs > 0 ? 0.7 * avgMs + 0.3 * latestMs : latestMs;
}
