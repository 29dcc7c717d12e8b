// --out - streams records to stdout in file order; a reader that goes away (| head) ends the run
// quietly with exit 0, as ripgrep does.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, TICKS, ticksFixture } from './helpers.js';

const { dir, ticks } = ticksFixture(300_000, 5);

describe('--out -', () => {
  it('writes the same bytes to stdout as to a file, and the result to stderr', () => {
    const file = join(dir, 'm.bin');
    const args = [
      'run',
      '--file',
      ticks,
      '--schema',
      TICKS,
      '--op',
      'filter',
      '--where',
      'price > 105',
      '--chunk-size',
      '256KiB',
    ];
    expect(cli([...args, '--out', file, '--quiet']).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, ...args, '--out', '-', '--json'], { maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(file))).toBe(0);
    const doc = JSON.parse(r.stderr.toString());
    expect(doc.result.matched * 24).toBe(r.stdout.length);
  });

  it('exits 0 promptly and quietly when the reader closes the pipe', () => {
    const cmd = `"${process.execPath}" "${BIN}" run --file "${ticks}" --schema '${TICKS}' --op filter --where 'price > 0' --out - --chunk-size 64KiB -q | head -c 1000 | wc -c; echo "status=\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^\s*1000\nstatus=0\n$/);
    expect(r.stderr).toBe('');
  });
});
