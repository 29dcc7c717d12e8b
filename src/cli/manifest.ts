// `bigproc status | events | health | retry --manifest URL [--run-id ID]`: looking at (and nudging) a
// multi-host run from any machine that can reach its manifest.
import type { Command } from 'commander';
import type { ManifestEvent, ManifestStore, RunDescriptor, RunManifest } from '../manifest/types.js';
import { parseLease, parseNonNegativeInt, parsePositiveInt } from '../config/units.js';
import { BigprocError, EXIT, hasCode, show, usage } from '../errors.js';
import { redact } from '../redact.js';
import { isSystemError, systemError } from '../sys-errors.js';
import { owner } from '../cluster/owner.js';
import { healthReasons, statusOf, type StatusDoc } from '../manifest/status.js';

export { statusOf, type StatusDoc };

interface CommonFlags {
  manifest?: string;
  runId?: string;
  json?: boolean;
}

/** What these commands print goes out masked: stored errors and details may quote a URL with its password. */
function print(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}

function common(cmd: Command): Command {
  return cmd
    .option('--manifest <url>', 'file:DIR or postgres://user@host/db')
    .option('--run-id <id>', 'the run (default: the only run in the manifest)')
    .option('--json', 'print JSON');
}

/** A run opened in its manifest: the store (to close), the run and its descriptor. */
interface OpenedRun {
  store: ManifestStore;
  run: RunManifest;
  desc: RunDescriptor;
}

async function openRun(flags: CommonFlags, retryMs?: number): Promise<OpenedRun> {
  if (!flags.manifest) throw usage('--manifest <url> is required (file:DIR or postgres://…)');
  // Loaded here: the stores bring node:crypto (and pg), which every other command would load for nothing.
  const { openStore } = await import('../manifest/open.js');
  const store = await openStore(flags.manifest, { existing: true, ...(retryMs === undefined ? {} : { retryMs }) });
  try {
    let runId = flags.runId;
    if (runId === undefined) {
      const runs = await store.runs();
      if (runs.length === 0) throw usage(`no runs in the manifest ${store.url}`);
      if (runs.length > 1)
        throw usage(`the manifest holds ${runs.length} runs (${runs.slice(-10).join(', ')}): give --run-id`);
      runId = runs[0]!;
    }
    const run = store.run(runId);
    const desc = await run.descriptor();
    if (!desc) throw usage(`no run ${show(runId)} in the manifest ${store.url}`);
    return { store, run, desc };
  } catch (e) {
    await store.close();
    throw e;
  }
}

function humanStatus(doc: StatusDoc, desc: RunDescriptor): string {
  const s = doc.shards;
  const lines = [
    `run ${doc.run_id}: ${doc.state} — ${desc.op} over ${desc.file.name} (${desc.file.size} bytes)`,
    `shards: ${s.done}/${s.total} done, ${s.running} running${s.expired ? ` (${s.expired} with expired leases)` : ''}, ${s.pending} pending, ${s.failed} failed`,
  ];
  if (doc.throughput_bytes_per_s !== null)
    lines.push(
      `throughput ${(doc.throughput_bytes_per_s / 1e9).toFixed(3)} GB/s${doc.eta_seconds ? `, ETA ${doc.eta_seconds} s` : ''}`,
    );
  for (const h of doc.hosts)
    lines.push(`host ${h.host} pid ${h.pid}: ${h.shards_done} shards, last seen ${h.last_seen}`);
  for (const f of doc.failed) lines.push(`failed shard ${f.shard} after ${f.attempts} attempts: ${f.error}`);
  if (doc.result !== null) lines.push(`result: ${JSON.stringify(doc.result)}`);
  return lines.join('\n');
}

/** `bigproc status`: shards by state, hosts, throughput, the merged result. */
function statusCommand(program: Command): void {
  common(
    program
      .command('status')
      .description('the state of a multi-host run: shards by state, hosts, throughput, ETA, the result once merged'),
  ).action(async (flags: CommonFlags) => {
    const { store, run, desc } = await openRun(flags);
    try {
      const { doc } = await statusOf(run, desc);
      print(flags.json ? JSON.stringify(doc) : humanStatus(doc, desc));
    } finally {
      await store.close();
    }
  });
}

/** `bigproc events`: the audit trail, one line (or JSON object) per event. */
function eventsCommand(program: Command): void {
  common(
    program
      .command('events')
      .description("a run's audit trail: claims, commits, rejections, failures, expiries, releases, merges"),
  )
    .option('--shard <n>', 'only this shard')
    .option('--host <name>', 'only this host')
    .action(async (flags: CommonFlags & { shard?: string; host?: string }) => {
      const shard = flags.shard === undefined ? undefined : parseNonNegativeInt(flags.shard, '--shard');
      const { store, run, desc } = await openRun(flags);
      try {
        if (shard !== undefined && shard >= desc.shards) {
          throw usage(
            `Expected a shard from 0 to ${desc.shards - 1} for --shard (run ${run.runId} has ${desc.shards}) but received ${shard}`,
          );
        }
        const events = await run.events({
          ...(shard !== undefined ? { shard } : {}),
          ...(flags.host !== undefined ? { host: flags.host } : {}),
        });
        const text = events
          .map((e) =>
            flags.json
              ? JSON.stringify(e)
              : `${e.time} ${e.type.padEnd(15)} shard ${e.shard ?? '-'} token ${e.token ?? '-'} ${e.host}:${e.pid}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}`,
          )
          .join('\n');
        if (text) print(text);
      } finally {
        await store.close();
      }
    });
}

/** `bigproc health`: exit 0 healthy, 1 degraded, 2 unreachable — for monitors and cron. */
function healthCommand(program: Command): void {
  common(
    program
      .command('health')
      .description(
        'exit 0 healthy, 1 degraded (expired leases, failed shards, or no progress), 2 manifest unreachable',
      ),
  )
    .option('--lease <duration>', 'the lease length the hosts use', '30s')
    .option('--periods <n>', 'no commit for this many lease periods while shards remain counts as no progress', '3')
    .action(async (flags: CommonFlags & { lease: string; periods: string }) => {
      const leaseMs = parseLease(flags.lease);
      const periods = parsePositiveInt(flags.periods, '--periods');
      let opened: OpenedRun;
      try {
        // A probe answers within seconds: a database that does not answer in 5 s is unreachable.
        opened = await openRun(flags, 5000);
      } catch (e) {
        // a usage error other than a manifest that cannot be used (no such run, say) is the caller's
        if (e instanceof BigprocError && e.exitCode === EXIT.usage && !hasCode(e, 'ManifestUnreachable')) throw e;
        const reason = isSystemError(e) ? systemError(e).message : (e as Error).message;
        // the reason goes to stderr once (below); stdout carries only the JSON document asked for
        if (flags.json) print(JSON.stringify({ health: 'unreachable', reasons: [reason] }));
        throw new BigprocError(`manifest unreachable: ${reason}`, EXIT.usage);
      }
      const { store, run, desc } = opened;
      let doc: StatusDoc;
      let events: ManifestEvent[];
      try {
        ({ doc, events } = await statusOf(run, desc));
      } finally {
        await store.close();
      }
      const reasons = healthReasons(doc, events, leaseMs, periods, Date.now());
      const health = reasons.length ? 'degraded' : 'healthy';
      if (flags.json)
        print(JSON.stringify({ health, reasons, run_id: doc.run_id, state: doc.state, shards: doc.shards }));
      else if (!reasons.length) print(health);
      // degraded: said once, on stderr, by the error below
      if (reasons.length) throw new BigprocError(`run ${doc.run_id} is degraded: ${reasons.join('; ')}`, EXIT.runtime);
    });
}

/** `bigproc retry`: failed shards back to pending. */
function retryCommand(program: Command): void {
  common(
    program
      .command('retry')
      .description('reset the failed shards of a run so the next invocation processes them again'),
  ).action(async (flags: CommonFlags) => {
    const { store, run } = await openRun(flags);
    try {
      const n = await run.retryFailed(owner());
      print(
        flags.json
          ? JSON.stringify({ run_id: run.runId, reset: n })
          : `run ${run.runId}: ${n} failed shard${n === 1 ? '' : 's'} reset to pending`,
      );
    } finally {
      await store.close();
    }
  });
}

export function registerManifestCommands(program: Command): void {
  statusCommand(program);
  eventsCommand(program);
  healthCommand(program);
  retryCommand(program);
}
