// Running the real bigproc binary in tests.
import { afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'bigproc.mjs');
export const TICKS = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: opts.input,
    env: { ...process.env, ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function json(r: CliResult): any {
  if (r.status !== 0) throw new Error(`bigproc exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bigproc-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temp dir holding ticks.bin (`records` generated with `seed`), created when the calling test file
 * is loaded and removed after its tests.
 */
export function ticksFixture(records: number, seed = 1): { dir: string; ticks: string } {
  const { dir, cleanup } = tempDir();
  const ticks = join(dir, 'ticks.bin');
  genTicks(ticks, records, seed);
  afterAll(() => cleanup());
  return { dir, ticks };
}

export function genTicks(file: string, records: number, seed = 1, extra: string[] = []): void {
  const r = cli([
    'gen',
    '--schema',
    TICKS,
    '--records',
    String(records),
    '--out',
    file,
    '--seed',
    String(seed),
    '--dist',
    'ts=seq:1700000000000000000:1000,price=normal:100:10,qty=uniform:1:1000,side=uniform:0:1',
    '--quiet',
    ...extra,
  ]);
  if (r.status !== 0) throw new Error(`gen failed: ${r.stderr}`);
}

export function writeBytes(file: string, bytes: Uint8Array): void {
  writeFileSync(file, bytes);
}
