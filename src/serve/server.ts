// `bigproc serve`'s HTTP server (node:http, nothing else): admission (token or loopback), the page,
// /login, and the API routes. Every response body goes through the sources' scrubber, so no
// credential or manifest path leaves the process; errors are JSON with a status, never a stack.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigprocError, EXIT } from '../errors.js';
import { isSystemError, systemError } from '../sys-errors.js';
import { admit, loginCookie, sameSecret } from './auth.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import { LOGIN_QUERY, issuesLine } from './queries.js';
import { HttpError, queryObject, route, type Reply, type ServeContext } from './routes.js';
import { Streams } from './stream.js';
import type { Sources } from './sources.js';
import type { Owner } from '../manifest/types.js';

/** Longest request line we read: the API's paths and queries are short. */
const MAX_URL = 4096;
/** Request bodies are not used (retry takes none): anything larger than this is refused unread. */
const MAX_BODY = 1024;

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

const SIGN_IN_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bigproc serve</title></head>
<body><h1>bigproc serve</h1><p>This server needs its token. Open <code>/login?token=&lt;token&gt;</code> once: the browser keeps it in a cookie.</p></body></html>
`;

export interface ServeOptions {
  sources: Sources;
  host: string;
  port: number;
  token: string | null;
  owner: Owner;
  /** SSE: the longest wait between two reads of a watched run (ms) */
  pollMs?: number;
}

export interface Running {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  scrub: (t: string) => string,
  extra: Record<string, string> = {},
): void {
  const text = scrub(body);
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, scrub: (t: string) => string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  send(
    res,
    status,
    'application/json; charset=utf-8',
    JSON.stringify({ error: message.replace(/\s*\n\s*/g, ' '), status }),
    scrub,
  );
}

/** An error thrown by a handler as (status, message): ours as they are, the stores' as 400/503, anything else 500 without its stack. */
function statusOf(e: unknown): [number, string] {
  if (e instanceof HttpError) return [e.status, e.message];
  const known = isSystemError(e) ? systemError(e) : e;
  if (known instanceof BigprocError) return [known.exitCode === EXIT.usage ? 400 : 503, known.message];
  return [500, `internal error: ${(e as Error)?.message ?? String(e)}`];
}

function login(res: ServerResponse, url: URL, ctx: ServeContext, scrub: (t: string) => string, secure: boolean): void {
  const q = queryObject(url.searchParams);
  const parsed = typeof q === 'string' ? null : LOGIN_QUERY.safeParse(q);
  if (!parsed?.success) throw new HttpError(400, parsed ? issuesLine(parsed.error) : String(q));
  if (ctx.token === null) throw new HttpError(404, 'this server has no token: open / directly');
  if (!sameSecret(parsed.data.token, ctx.token)) throw new HttpError(401, "the token given is not this server's token");
  res.writeHead(303, { ...BASE_HEADERS, location: '/', 'set-cookie': loginCookie(ctx.token, secure) });
  res.end();
  void scrub;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: ServeContext): Promise<void> {
  const scrub = (t: string) => ctx.sources.scrubber.scrub(t);
  if ((req.url ?? '').length > MAX_URL)
    throw new HttpError(414, `the request line is longer than ${MAX_URL} characters`);
  const url = new URL(req.url ?? '/', 'http://bigproc.invalid');
  if (
    Number(req.headers['content-length'] ?? 0) > MAX_BODY ||
    (req.headers['transfer-encoding'] !== undefined && req.method !== 'GET')
  ) {
    throw new HttpError(413, `request bodies are limited to ${MAX_BODY} bytes (no endpoint takes one)`);
  }
  // /login is how a browser presents the token, so it is the one path open without it
  if (url.pathname === '/login' && req.method === 'GET') return login(res, url, ctx, scrub, false);
  const verdict = admit(req, ctx.token);
  if (!verdict.ok && url.pathname === '/' && verdict.status === 401) {
    // a browser at the front door: say how to sign in, in a page rather than JSON
    return send(res, 401, 'text/html; charset=utf-8', SIGN_IN_HTML, (t) => t, {
      'content-security-policy': "default-src 'none'",
    });
  }
  if (!verdict.ok) throw new HttpError(verdict.status, verdict.message);
  if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, (t) => t, { 'content-security-policy': PAGE_CSP });
  }
  const { handler, params } = route(req.method ?? 'GET', url.pathname);
  const query = queryObject(url.searchParams);
  if (typeof query === 'string') throw new HttpError(400, query);
  const reply: Reply = await handler({ ctx, req, res, params, query });
  if (reply.kind === 'json')
    send(res, reply.status ?? 200, 'application/json; charset=utf-8', JSON.stringify(reply.body), scrub);
  else if (reply.kind === 'text') send(res, 200, reply.type, reply.body, (t) => t);
}

/** Listen, and resolve once listening; `url` has the port the OS picked for port 0. */
export async function startServer(opts: ServeOptions): Promise<Running> {
  const streams = new Streams({
    pollMs: opts.pollMs ?? 500,
    keepAliveMs: 15_000,
    scrub: (t) => opts.sources.scrubber.scrub(t),
  });
  const ctx: ServeContext = { sources: opts.sources, streams, token: opts.token, owner: opts.owner };
  const server = createServer((req, res) => {
    handle(req, res, ctx).catch((e) => {
      const [status, message] = statusOf(e);
      sendError(res, status, message, (t) => ctx.sources.scrubber.scrub(t));
    });
  });
  // a slow client cannot hold a connection open by dribbling its headers
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // streams are long-lived; headersTimeout bounds the request itself
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    server,
    async close() {
      streams.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
