// The host's pacing as pure functions: retry delay, polling interval, batch size.
import { describe, expect, it } from 'vitest';
import {
  averageShardMs,
  MAX_BATCH,
  MAX_RETRY_MS,
  nextBatch,
  nextPoll,
  POLL_FIRST_MS,
  POLL_MAX_MS,
  pollWait,
  retryDelay,
} from '../../src/cluster/backoff.js';

describe('retryDelay', () => {
  it('doubles per earlier failure, with a jitter of 0.5-1.5', () => {
    expect(retryDelay(1000, 1, () => 0.5)).toBe(1000);
    expect(retryDelay(1000, 2, () => 0.5)).toBe(2000);
    expect(retryDelay(1000, 3, () => 0.5)).toBe(4000);
    expect(retryDelay(1000, 3, () => 0)).toBe(2000);
    expect(retryDelay(1000, 3, () => 0.999999)).toBe(6000);
  });
  it('is capped at a minute (before jitter), and a count below 1 is the first failure', () => {
    expect(retryDelay(1000, 40, () => 0.5)).toBe(MAX_RETRY_MS);
    expect(retryDelay(1000, 0, () => 0.5)).toBe(1000);
    expect(retryDelay(0, 5, () => 0.5)).toBe(0);
  });
});

describe('polling', () => {
  it('grows by 1.5 up to POLL_MAX_MS, and to no more than a quarter of a shard here', () => {
    expect(nextPoll(POLL_FIRST_MS, 0)).toBe(30);
    expect(nextPoll(900, 0)).toBe(POLL_MAX_MS);
    expect(nextPoll(400, 800)).toBe(200);
    // a very quick shard: never below the first interval
    expect(nextPoll(400, 8)).toBe(POLL_FIRST_MS);
  });
  it('waits what the manifest asked if sooner; sleeps to POLL_MAX_MS where the manifest notifies', () => {
    expect(pollWait(5, 100, false, () => 0)).toBe(5);
    expect(pollWait(10_000, 100, false, () => 0)).toBe(100);
    expect(pollWait(10_000, 100, false, () => 1)).toBe(150);
    expect(pollWait(10_000, 100, true, () => 1)).toBe(POLL_MAX_MS);
  });
});

describe('batch size', () => {
  it('doubles while a batch is quick, at most MAX_BATCH; a slow shard goes back to one', () => {
    expect(nextBatch(1, 1)).toBe(2);
    expect(nextBatch(32, 0.01)).toBe(MAX_BATCH);
    expect(nextBatch(64, 0)).toBe(MAX_BATCH);
    expect(nextBatch(8, 20)).toBe(2);
    expect(nextBatch(8, 500)).toBe(1);
  });
  it('averages the time per shard, the first value as is', () => {
    expect(averageShardMs(0, 40)).toBe(40);
    expect(averageShardMs(100, 0)).toBe(70);
  });
});
