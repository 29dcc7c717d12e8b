// `bigproc serve --manifest URL… [--host 127.0.0.1] [--port 8377] [--token T] [--open]`: the dashboard,
// REST API, event stream and Prometheus metrics over one or more manifests, until a stop signal.
import type { Command } from 'commander';
import { parseNonNegativeInt } from '../config/units.js';
import { BigprocError, EXIT, usage } from '../errors.js';
import type { Running } from '../serve/server.js';
import { onStopSignals } from '../engine/signals.js';
import { owner } from '../cluster/owner.js';

interface ServeFlags {
  manifest?: string | string[];
  host: string;
  port: string;
  token?: string;
  open?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The flags checked before anything is opened: manifests given, port in range, a token wherever others can connect. */
function checkFlags(
  flags: ServeFlags,
  isLoopback: (host: string) => boolean,
): { urls: string[]; port: number; token: string | null } {
  const urls = (Array.isArray(flags.manifest) ? flags.manifest : flags.manifest ? [flags.manifest] : []).filter(
    (u) => u !== '',
  );
  if (urls.length === 0)
    throw usage('--manifest <url> is required (file:DIR or postgres://…; give it again for more manifests)');
  const port = parseNonNegativeInt(flags.port, '--port');
  if (port > 65535) throw usage(`Expected a port from 0 to 65535 for --port but received ${flags.port}`);
  const token = flags.token === undefined ? null : flags.token;
  if (token !== null && token.trim() === '')
    throw usage('Expected a non-empty token for --token (or BIGPROC_TOKEN) but received ""');
  if (!isLoopback(flags.host) && token === null) {
    throw usage(
      `--host ${flags.host} lets other machines connect: give --token T (or BIGPROC_TOKEN) so that every request must carry it, or keep the default --host 127.0.0.1`,
    );
  }
  return { urls, port, token };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('a live dashboard, REST API, Server-Sent Events and Prometheus /metrics over manifests')
    .option('--manifest <url>', 'file:DIR or postgres://user@host/db (repeat for several)', collect)
    .option('--host <address>', 'the address to listen on (other than loopback only with --token)', '127.0.0.1')
    .option('--port <n>', 'the port to listen on (0: any free port)', '8377')
    .option(
      '--token <token>',
      'every request must carry it (Authorization: Bearer, or /login?token= for a browser); enables retry',
    )
    .option('--open', 'print the address to open in a browser')
    .action(async (flags: ServeFlags) => {
      // Loaded here, not at the top: the server pulls in node:http, node:net and node:crypto, which
      // every other command would otherwise load at start-up for nothing.
      const { isLoopback } = await import('../serve/auth.js');
      const { openSources } = await import('../serve/sources.js');
      const { startServer } = await import('../serve/server.js');
      const { urls, port, token } = checkFlags(flags, isLoopback);
      const sources = await openSources(urls);
      let running: Running;
      try {
        running = await startServer({ sources, host: flags.host, port, token, owner: owner() });
      } catch (e) {
        await sources.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw usage(
            `cannot listen on ${flags.host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : 'no such local address'}`,
          );
        }
        throw e;
      }
      // stdout: the address alone, for scripts (--port 0); stderr: how to use it
      process.stdout.write(`${running.url}\n`);
      process.stderr.write(
        `bigproc: serving ${urls.length} manifest${urls.length === 1 ? '' : 's'} at ${running.url}${token ? ' (token required; a browser signs in at /login?token=…)' : ''}\n`,
      );
      if (flags.open) process.stderr.write(`bigproc: open ${running.url} in a browser\n`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const off = onStopSignals((s) => {
          off();
          resolve(s);
        });
      });
      await Promise.race([running.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
      await sources.close();
      // Ctrl-C is an interruption (130, as the contract says); SIGTERM from a service manager is the normal end
      if (signal === 'SIGINT') throw new BigprocError('interrupted (SIGINT): serve stopped', EXIT.interrupted);
      process.stderr.write(`bigproc: serve stopped (${signal})\n`);
    });
}
