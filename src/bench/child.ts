// Running one measured process: spawned without a shell, timed from spawn to exit, its output kept.
// Live children are tracked so that Ctrl-C can end them (and only them) before bench exits.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** set when the program could not be started at all (ENOENT …) */
  spawnError: string | null;
}

const live = new Set<ChildProcess>();

/**
 * The environment of a measured child: ours without NODE_EXTRA_CA_CERTS (Node reads and parses that
 * bundle at every start — tens of milliseconds that no run of bigproc needs) and without BIGPROC_*
 * settings (every setting a run gets is on its command line).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (k !== 'NODE_EXTRA_CA_CERTS' && !k.startsWith('BIGPROC_')) env[k] = v;
  return { ...env, ...extra };
}

export function runChild(command: string, args: string[], env: NodeJS.ProcessEnv = childEnv()): Promise<ChildResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    // node:child_process (~3–5 ms to load) only when bench runs: the CLI imports this module at every start
    const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError: string | null = null;
    child.on('error', (e) => (spawnError = e.message));
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({
        code,
        signal,
        spawnError,
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** End every child still running (on Ctrl-C): each by its own pid. */
export function killChildren(): void {
  for (const c of live) c.kill('SIGTERM');
}

/** The line that says why a child failed: its last `bigproc: …` line, or its last line, or the exit status. */
export function failureLine(r: ChildResult): string {
  if (r.spawnError) return r.spawnError;
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = [...lines].reverse().find((l) => l.startsWith('bigproc:')) ?? lines.at(-1);
  const status = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return line ? `${line} (${status})` : status;
}
