// The flags of `bigproc run` across hosts: with --manifest (shards claimed under leases, merged by the
// host that commits last), with --shard-index/--shard-count (static parts for array jobs, merged later
// by `bigproc merge`), and the --exclusive single-instance guard. What they do lives in src/cluster/.
import type { Command } from 'commander';
import { SHARD_DEFAULTS } from '../config/run-args.js';

export function defineShardOptions(cmd: Command): void {
  cmd
    .option(
      '--manifest <url>',
      'share the run with other hosts: file:DIR (shared filesystem) or postgres://user@host/db',
    )
    .option('--run-id <id>', 'name of the run in the manifest (default: derived from the file, the op and its options)')
    .option(
      '--shard-size <size>',
      'bytes per shard claimed by a host (a whole number of chunks)',
      SHARD_DEFAULTS.shardSize,
    )
    .option(
      '--lease <duration>',
      'how long a claimed shard (or --exclusive guard) is held without a heartbeat',
      SHARD_DEFAULTS.lease,
    )
    .option('--max-attempts <n>', 'attempts per shard before it is marked failed', SHARD_DEFAULTS.maxAttempts)
    .option(
      '--backoff <duration>',
      'delay before the first retry of a failed shard (doubled per attempt, with jitter)',
      SHARD_DEFAULTS.backoff,
    )
    .option(
      '--grace <duration>',
      'on SIGTERM: time to finish the shard in hand before releasing it',
      SHARD_DEFAULTS.grace,
    )
    .option('--exclusive <name>', 'refuse to run (exit 75) while another invocation holds this name')
    .option(
      '--shard-index <i>',
      'static sharding: process part I of --shard-count (default $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX) and print its partial as JSON',
    )
    .option('--shard-count <n>', 'static sharding: the number of parts');
}
