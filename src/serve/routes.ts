// The API's routes: each reads a run through the sources (the stores' own interfaces) and answers
// JSON; the page, /login and /metrics sit beside them. Errors are HttpErrors that the server turns into
// {"error", "status"}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod/mini';
import type { Owner } from '../manifest/types.js';
import { healthReasons, statusOf } from '../manifest/status.js';
import { allRuns, findRun, type Sources } from './sources.js';
import { hostRows, numbered, runSummary, settledTrail, shardJson } from './read.js';
import { prometheusText, type RunMetrics } from './metrics.js';
import { EVENTS_QUERY, HEALTH_QUERY, NO_QUERY, SHARDS_QUERY, issuesLine, queryObject } from './queries.js';
import type { Streams } from './stream.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ServeContext {
  sources: Sources;
  streams: Streams;
  /** the token every request must carry; null: loopback only, no retry */
  token: string | null;
  /** who `retry` is logged as in the trail */
  owner: Owner;
}

/** json: scrubbed as a whole when sent; text: sent as it is (its maker scrubbed what came from the manifest) */
export type Reply =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'text'; type: string; body: string }
  | { kind: 'done' };

interface Request {
  ctx: ServeContext;
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: Record<string, string>;
}

export function parseQuery<S extends z.ZodMiniType>(schema: S, query: Record<string, string>): z.infer<S> {
  const r = schema.safeParse(query);
  if (!r.success) throw new HttpError(400, issuesLine(r.error));
  return r.data;
}

async function runOr404(ctx: ServeContext, id: string) {
  const found = await findRun(ctx.sources, id);
  if (!found) throw new HttpError(404, `no run ${JSON.stringify(id)} in the manifests served`);
  return found;
}

async function listRuns({ ctx, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  const now = Date.now();
  const runs = await Promise.all(
    (await allRuns(ctx.sources)).map(async (ref) => {
      const desc = await ref.run.descriptor();
      if (!desc) return null;
      const { doc, rows, events } = await statusOf(ref.run, desc);
      return runSummary(ref.id, ref.source.label, desc, doc, rows, events, now);
    }),
  );
  // newest first: the run being watched is usually the latest
  return { kind: 'json', body: { runs: runs.filter((r) => r !== null).reverse() } };
}

async function runDetail({ ctx, params, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  const { ref, desc } = await runOr404(ctx, params[0]!);
  const now = Date.now();
  const { doc, rows, events } = await statusOf(ref.run, desc);
  return {
    kind: 'json',
    body: {
      ...doc,
      id: ref.id,
      summary: runSummary(ref.id, ref.source.label, desc, doc, rows, events, now),
      host_rows: hostRows(desc, rows, events, now),
    },
  };
}

async function shards({ ctx, params, query }: Request): Promise<Reply> {
  const q = parseQuery(SHARDS_QUERY, query);
  const { ref } = await runOr404(ctx, params[0]!);
  const rows = (await ref.run.shards()).filter(
    (r) => (q.state === undefined || r.state === q.state) && (q.host === undefined || r.owner?.host === q.host),
  );
  return { kind: 'json', body: { run_id: ref.id, shards: rows.map(shardJson) } };
}

async function events({ ctx, params, query }: Request): Promise<Reply> {
  const q = parseQuery(EVENTS_QUERY, query);
  const { ref } = await runOr404(ctx, params[0]!);
  const limit = q.limit ?? 500;
  const after = q.after ?? 0;
  const all = numbered(settledTrail(await ref.run.events(), Date.now()).events);
  const matching = all.filter(
    (e) =>
      e.id > after &&
      (q.shard === undefined || e.shard === q.shard) &&
      (q.host === undefined || e.host === q.host) &&
      (q.type === undefined || e.type === q.type),
  );
  const page = matching.slice(0, limit);
  const next = page.length ? page[page.length - 1]!.id : after;
  return {
    kind: 'json',
    body: { run_id: ref.id, events: page, next, more: matching.length > limit, total: all.length },
  };
}

async function result({ ctx, params, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  const { ref } = await runOr404(ctx, params[0]!);
  const stored = await ref.run.result();
  if (stored === null) throw new HttpError(404, `run ${JSON.stringify(ref.id)} has no merged result yet`);
  return { kind: 'json', body: { run_id: ref.id, result: JSON.parse(stored) } };
}

async function stream({ ctx, req, res, params, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  const { ref, desc } = await runOr404(ctx, params[0]!);
  const last = req.headers['last-event-id'];
  const lastId = typeof last === 'string' && /^\d{1,15}$/.test(last.trim()) ? Number(last.trim()) : null;
  await ctx.streams.open(ref, desc, res, lastId);
  return { kind: 'done' };
}

async function retry({ ctx, params, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  if (ctx.token === null) throw new HttpError(403, 'retry needs a server started with --token (or BIGPROC_TOKEN)');
  const { ref } = await runOr404(ctx, params[0]!);
  const reset = await ref.run.retryFailed(ctx.owner);
  return { kind: 'json', body: { run_id: ref.id, reset } };
}

/** `bigproc health` over HTTP: 200 healthy, 503 degraded; one run (?run=) or every run served. */
async function health({ ctx, query }: Request): Promise<Reply> {
  const q = parseQuery(HEALTH_QUERY, query);
  const refs = q.run === undefined ? await allRuns(ctx.sources) : [(await runOr404(ctx, q.run)).ref];
  const runs = await Promise.all(
    refs.map(async (ref) => {
      const desc = await ref.run.descriptor();
      if (!desc) return null;
      const { doc, events } = await statusOf(ref.run, desc);
      const reasons = healthReasons(doc, events, q.lease ?? 30_000, q.periods ?? 3, Date.now());
      return {
        health: reasons.length ? 'degraded' : 'healthy',
        reasons,
        run_id: ref.id,
        state: doc.state,
        shards: doc.shards,
      };
    }),
  );
  const found = runs.filter((r) => r !== null);
  const healthy = found.every((r) => r.health === 'healthy');
  const body = q.run !== undefined ? found[0] : { health: healthy ? 'healthy' : 'degraded', runs: found };
  return { kind: 'json', status: healthy ? 200 : 503, body };
}

async function metrics({ ctx, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  const now = Date.now();
  const runs: RunMetrics[] = [];
  for (const ref of await allRuns(ctx.sources)) {
    const desc = await ref.run.descriptor();
    if (!desc) continue;
    const { doc, rows, events } = await statusOf(ref.run, desc);
    runs.push({ summary: runSummary(ref.id, ref.source.label, desc, doc, rows, events, now), events, now });
  }
  return {
    kind: 'text',
    type: 'text/plain; version=0.0.4; charset=utf-8',
    body: prometheusText(runs, (t) => ctx.sources.scrubber.scrub(t)),
  };
}

async function info({ ctx, query }: Request): Promise<Reply> {
  parseQuery(NO_QUERY, query);
  return { kind: 'json', body: { retry: ctx.token !== null, manifests: ctx.sources.list.map((s) => s.label) } };
}

type Handler = (r: Request) => Promise<Reply>;

/** method, path pattern (captures are the params), handler */
export const ROUTES: [string, RegExp, Handler][] = [
  ['GET', /^\/api\/info$/, info],
  ['GET', /^\/api\/runs$/, listRuns],
  ['GET', /^\/api\/runs\/([^/]+)$/, runDetail],
  ['GET', /^\/api\/runs\/([^/]+)\/shards$/, shards],
  ['GET', /^\/api\/runs\/([^/]+)\/events$/, events],
  ['GET', /^\/api\/runs\/([^/]+)\/result$/, result],
  ['GET', /^\/api\/runs\/([^/]+)\/stream$/, stream],
  ['POST', /^\/api\/runs\/([^/]+)\/retry$/, retry],
  ['GET', /^\/api\/health$/, health],
  ['GET', /^\/metrics$/, metrics],
];

/** The handler for a request, or the HttpError that says why there is none (404, 405). */
export function route(method: string, path: string): { handler: Handler; params: string[] } {
  let known = false;
  for (const [m, pattern, handler] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    known = true;
    if (m === method || (m === 'GET' && method === 'HEAD')) {
      try {
        return { handler, params: match.slice(1).map((p) => decodeURIComponent(p)) };
      } catch {
        throw new HttpError(400, `the path ${JSON.stringify(path)} is not valid percent-encoding`);
      }
    }
  }
  throw known
    ? new HttpError(405, `${method} is not allowed on ${path}`)
    : new HttpError(404, `no such endpoint: ${path}`);
}

export { queryObject };
