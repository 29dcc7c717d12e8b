// --file - (and FIFOs): records read from a pipe into a bounded pool of shared buffers give exactly the
// results of the mapped path, for every op and chunk size.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, json, TICKS, ticksFixture } from './helpers.js';
import { writeNpy } from '../../src/layout/npy.js';

const { dir, ticks } = ticksFixture(60_001, 3);

function viaStdin(args: string[], input: Buffer) {
  const r = spawnSync(process.execPath, [BIN, 'run', '--file', '-', ...args], { input, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const JOBS: string[][] = [
  [],
  ['--op', 'hist', '--field', 'price', '--range', '70:130', '--bins', '13'],
  ['--op', 'filter', '--where', 'price > 110 || qty < 10'],
];

describe('stdin equals the mapped file', () => {
  const data = () => readFileSync(ticks);
  for (const job of JOBS) {
    it(`${job[1] ?? 'stats'}: same result for several chunk sizes and worker counts, both backends`, () => {
      const want = json(cli(['run', '--file', ticks, '--schema', TICKS, '--json', ...job])).result;
      for (const [chunk, workers, backend] of [
        ['64MiB', '2', 'native'],
        ['10000', '3', 'native'],
        ['64KiB', '1', 'js'],
      ]) {
        const r = viaStdin(
          ['--schema', TICKS, '--json', '--chunk-size', chunk!, '--workers', workers!, '--backend', backend!, ...job],
          data(),
        );
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout).result).toEqual(want);
      }
    });
  }

  it('filter --out from stdin writes the same bytes', () => {
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    expect(
      cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', 'side == 1', '--out', a, '-q'])
        .status,
    ).toBe(0);
    expect(
      viaStdin(
        ['--schema', TICKS, '--op', 'filter', '--where', 'side == 1', '--out', b, '--chunk-size', '5000', '-q'],
        data(),
      ).status,
    ).toBe(0);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
  });

  it('an .npy arrives with its header', () => {
    const buf = Buffer.alloc(800);
    for (let i = 0; i < 100; i++) buf.writeDoubleLE(i * 0.5, i * 8);
    const r = viaStdin(['--json'], Buffer.from(writeNpy('<f8', [100], buf)));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result.fields.value.sum).toBe(2475);
  });

  it('a FIFO is read as a stream', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `cat "${ticks}" > "${fifo}" & "${process.execPath}" "${BIN}" run --file "${fifo}" --schema '${TICKS}' --json`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toEqual(
      json(cli(['run', '--file', ticks, '--schema', TICKS, '--json'])).result,
    );
  });

  it('stdin of every kind: a shell pipe, a redirected file, a socket, /dev/null', () => {
    const want = json(cli(['run', '--file', ticks, '--schema', TICKS, '--json'])).result;
    const run = `"${process.execPath}" "${BIN}" run --file - --schema '${TICKS}' --json --chunk-size 100000`;
    for (const cmd of [`cat "${ticks}" | ${run}`, `${run} < "${ticks}"`]) {
      const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout).result).toEqual(want);
    }
    // Node gives a child's stdin as one end of a socket pair.
    const sock = viaStdin(['--schema', TICKS, '--json', '--chunk-size', '100000'], readFileSync(ticks));
    expect(JSON.parse(sock.stdout).result).toEqual(want);
    const empty = spawnSync('bash', ['-c', `${run} < /dev/null`], { encoding: 'utf8' });
    expect(empty.status, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout).result.fields.price.count).toBe(0);
  });
});

describe('stdin errors', () => {
  it('a trailing partial record is exit 2 unless --allow-partial', () => {
    const input = Buffer.concat([readFileSync(ticks).subarray(0, 24 * 100), Buffer.alloc(7)]);
    const r = viaStdin(['--schema', TICKS], input);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/7 trailing bytes/);
    const ok = viaStdin(['--schema', TICKS, '--allow-partial', '--json'], input);
    expect(JSON.parse(ok.stdout).result.trailing_bytes).toBe(7);
    expect(JSON.parse(ok.stdout).result.fields.ts.count).toBe(100);
  });

  it('an op that needs a pre-pass asks for the missing option', () => {
    const r = viaStdin(['--schema', TICKS, '--op', 'hist', '--field', 'price'], readFileSync(ticks));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--range/);
  });

  it('empty stdin is an empty result', () => {
    const r = viaStdin(['--schema', TICKS, '--json'], Buffer.alloc(0));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result.fields.price.count).toBe(0);
  });
});

describe('interrupting a stream', () => {
  /** Start a run on a stream, wait until it is waiting on input (its stderr says nothing yet), SIGINT it. */
  async function interruptIdle(args: string[], feed?: (stdin: NodeJS.WritableStream) => void) {
    const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.on('error', () => {});
    feed?.(child.stdin!);
    const exited = new Promise<number | string | null>((res) => child.on('exit', (c, sig) => res(c ?? sig)));
    // Long enough for the CLI to be reading (start-up is ~0.2 s); the input stays open and idle.
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return { code, stderr };
  }

  it('SIGINT while an open pipe sends nothing exits 130 at once (no thread stuck in read)', async () => {
    // Half a chunk, then silence: the reader is waiting for the rest when the signal comes.
    const r = await interruptIdle(
      ['--file', '-', '--schema', TICKS, '--workers', '2', '--chunk-size', '64KiB'],
      (stdin) => stdin.write(readFileSync(ticks).subarray(0, 24 * 5000)),
    );
    expect(r).toEqual({ code: 130, stderr: 'bigproc: interrupted (SIGINT)\n' });
  });

  it('SIGINT while a FIFO has no writer yet ends the process (before the run starts: as the signal, status 130 to a shell)', async () => {
    const fifo = join(dir, 'fifo-idle');
    execFileSync('mkfifo', [fifo]);
    const r = await interruptIdle(['--file', fifo, '--schema', TICKS]);
    expect([130, 'SIGINT']).toContain(r.code);
  });

  it('SIGINT while the writer of a FIFO sends nothing more exits 130', async () => {
    const fifo = join(dir, 'fifo-quiet');
    execFileSync('mkfifo', [fifo]);
    // The writer keeps the FIFO open (sleep holds it) after half a chunk.
    const writer = spawn('bash', ['-c', `{ head -c ${24 * 5000} "${ticks}"; exec sleep 30; } > "${fifo}"`], {
      stdio: 'ignore',
    });
    try {
      const r = await interruptIdle(['--file', fifo, '--schema', TICKS, '--chunk-size', '64KiB']);
      expect(r).toEqual({ code: 130, stderr: 'bigproc: interrupted (SIGINT)\n' });
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('a FIFO whose writer opens late is not taken for an empty input', () => {
    const fifo = join(dir, 'fifo-late');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `(sleep 0.5; cat "${ticks}" > "${fifo}") & "${process.execPath}" "${BIN}" run --file "${fifo}" --schema '${TICKS}' --json --op count`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result.records).toBe(60_001);
  });
});
