// GET /api/runs/:id/stream — Server-Sent Events. One RunWatch per run being watched, shared by its
// clients: it wakes on the store's change signal (PostgreSQL LISTEN/NOTIFY; inotify for a directory)
// or on a poll, whichever comes first, reads the shards and the trail, and sends what is new:
//   event: trail     one per new audit event, `id:` its number in the trail (the cursor)
//   event: shard     a shard whose state, token, owner, attempts or error changed
//   event: hosts     the host rows (heartbeat, shards, bytes, throughput) after any change
//   event: snapshot  first on every connection: all shards, hosts and the status; `id:` the trail's length
// A client that reconnects with Last-Event-ID gets a fresh snapshot and then every trail event after
// that id: it misses nothing. (The poll matters for PostgreSQL, which notifies only the changes a
// waiting host can act on, and for a directory on NFS, where inotify sees only this machine's writes.)
import type { ServerResponse } from 'node:http';
import type { RunDescriptor, ShardRow, ManifestEvent } from '../manifest/types.js';
import { statusOf, type StatusDoc } from '../manifest/status.js';
import { hostRows, numbered, runSummary, settledTrail, shardJson } from './read.js';
import type { RunRef } from './sources.js';

export interface StreamOptions {
  /** the longest wait between two reads of a watched run */
  pollMs: number;
  /** a comment line this often keeps proxies from closing an idle stream */
  keepAliveMs: number;
  scrub: (text: string) => string;
}

interface Client {
  res: ServerResponse;
  keepAlive: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** What a shard looks like to a watcher: a change in any of these is sent. */
const shardKey = (r: ShardRow) =>
  `${r.state}|${r.token}|${r.owner?.host}|${r.owner?.pid}|${r.attempts}|${r.last_error}`;

class RunWatch {
  private readonly clients = new Set<Client>();
  private rows: ShardRow[] = [];
  private events: ManifestEvent[] = [];
  private status: StatusDoc | null = null;
  private ready: Promise<void> | null = null;
  private change: Promise<void> | null = null;
  private stopped = false;
  /** the last read held back an unsettled event (see settledTrail): read again soon */
  private heldBack = false;

  constructor(
    private readonly ref: RunRef,
    private readonly desc: RunDescriptor,
    private readonly opts: StreamOptions,
    private readonly onIdle: () => void,
  ) {}

  async join(res: ServerResponse, lastEventId: number | null): Promise<void> {
    this.ready ??= this.refresh(true).then(() => void this.loop());
    await this.ready;
    if (res.destroyed) return;
    const client: Client = { res, keepAlive: setInterval(() => res.write(': keep-alive\n\n'), this.opts.keepAliveMs) };
    this.clients.add(client);
    res.on('close', () => this.leave(client));
    res.write('retry: 1000\n\n');
    this.send(
      client,
      'snapshot',
      this.snapshot(),
      lastEventId === null ? this.events.length : Math.min(lastEventId, this.events.length),
    );
    if (lastEventId !== null)
      for (const e of numbered(this.events).slice(lastEventId)) this.send(client, 'trail', e, e.id);
  }

  private leave(client: Client): void {
    clearInterval(client.keepAlive);
    this.clients.delete(client);
    if (this.clients.size === 0) {
      this.stopped = true;
      this.onIdle();
    }
  }

  private snapshot(): unknown {
    const now = Date.now();
    return {
      run: runSummary(this.ref.id, this.ref.source.label, this.desc, this.status!, this.rows, this.events, now),
      shards: this.rows.map(shardJson),
      hosts: hostRows(this.desc, this.rows, this.events, now),
    };
  }

  private send(client: Client, event: string, data: unknown, id?: number): void {
    const body = this.opts.scrub(JSON.stringify(data));
    client.res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${body}\n\n`);
  }

  private broadcast(event: string, data: unknown, id?: number): void {
    for (const c of this.clients) this.send(c, event, data, id);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      // one change() promise at a time: a store keeps a waiter per call until the next change
      this.change ??= (this.ref.run.changed?.() ?? new Promise<void>(() => {})).then(() => {
        this.change = null;
      });
      await Promise.race([this.change, sleep(this.heldBack ? 50 : this.opts.pollMs)]);
      if (this.stopped) break;
      try {
        await this.refresh(false);
      } catch {
        // the store is unreachable for now (it retries inside); the next round tries again
      }
    }
  }

  /** Read the run again and send every change since the last read. */
  private async refresh(first: boolean): Promise<void> {
    const { doc, rows, events: all } = await statusOf(this.ref.run, this.desc);
    const { events, heldBack } = settledTrail(all, Date.now());
    this.heldBack = heldBack;
    const before = new Map(this.rows.map((r) => [r.shard, shardKey(r)]));
    const fresh = numbered(events).slice(this.events.length);
    this.rows = rows;
    this.events = events;
    this.status = doc;
    if (first) return;
    for (const e of fresh) this.broadcast('trail', e, e.id);
    for (const r of rows) if (before.get(r.shard) !== shardKey(r)) this.broadcast('shard', shardJson(r));
    if (fresh.length)
      this.broadcast('hosts', {
        run: runSummary(this.ref.id, this.ref.source.label, this.desc, doc, rows, events, Date.now()),
        hosts: hostRows(this.desc, rows, events, Date.now()),
      });
  }

  close(): void {
    this.stopped = true;
    for (const c of [...this.clients]) {
      clearInterval(c.keepAlive);
      c.res.end();
    }
    this.clients.clear();
  }
}

/** The streams of one server: a watch per run with clients, dropped when its last client leaves. */
export class Streams {
  private readonly watches = new Map<string, RunWatch>();

  constructor(private readonly opts: StreamOptions) {}

  async open(ref: RunRef, desc: RunDescriptor, res: ServerResponse, lastEventId: number | null): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    let w = this.watches.get(ref.id);
    if (!w) {
      const watch: RunWatch = new RunWatch(ref, desc, this.opts, () => {
        if (this.watches.get(ref.id) === watch) this.watches.delete(ref.id);
      });
      this.watches.set(ref.id, watch);
      w = watch;
    }
    try {
      await w.join(res, lastEventId);
    } catch (e) {
      // the run could not be read: say so on the stream (its status line is sent already) and end it
      if (this.watches.get(ref.id) === w) this.watches.delete(ref.id);
      res.end(`event: error\ndata: ${this.opts.scrub(JSON.stringify({ error: (e as Error).message }))}\n\n`);
    }
  }

  closeAll(): void {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}
