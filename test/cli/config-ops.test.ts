// Per-op sections of the settings file (run.ops.<op>, what `bench --save` writes): they apply only to
// their op, over the rest of the file and under the environment and the flags; bad ones are exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

function config(values: unknown): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(values));
  return path;
}

function settings(cfg: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const doc = json(cli(['config', '--config', cfg, '--json', ...args], { env }));
  return Object.fromEntries(
    doc.settings.map((s: { option: string; value: unknown; source: string }) => [s.option, [s.value, s.source]]),
  );
}

describe('run.ops.<op> sections', () => {
  it('apply to their op only, over the file’s other settings, under the environment and the flags', () => {
    const cfg = config({
      workers: 3,
      schema: TICKS,
      run: { 'chunk-size': '1MiB', ops: { stats: { workers: 1, 'chunk-size': '2MiB' }, hist: { bins: 7 } } },
    });
    const stats = settings(cfg, []);
    expect(stats['--workers']).toEqual(['1', `config ${cfg} (run.ops.stats)`]);
    expect(stats['--chunk-size']).toEqual(['2MiB', `config ${cfg} (run.ops.stats)`]);
    expect(stats['--bins']).toEqual([null, 'unset']);
    const hist = settings(cfg, ['--op', 'hist', '--field', 'price']);
    expect(hist['--workers']).toEqual(['3', `config ${cfg}`]);
    expect(hist['--chunk-size']).toEqual(['1MiB', `config ${cfg}`]);
    expect(hist['--bins']).toEqual(['7', `config ${cfg} (run.ops.hist)`]);
    expect(settings(cfg, [], { BIGPROC_WORKERS: '5' })['--workers']).toEqual(['5', 'env BIGPROC_WORKERS']);
    expect(settings(cfg, ['--workers', '2'], { BIGPROC_WORKERS: '5' })['--workers']).toEqual(['2', 'flag']);
  });

  it('an unknown op, a setting that chooses the op or file, a section elsewhere, or an option the op does not take: exit 2, one line', () => {
    const cases: [unknown, RegExp][] = [
      [{ run: { ops: { stat: { workers: 1 } } } }, /unknown op section "run\.ops\.stat" \(valid: stats, /],
      [{ run: { ops: { stats: { op: 'hist' } } } }, /"run\.ops\.stats\.op" cannot be set per op/],
      [{ run: { ops: { stats: { wrkers: 1 } } } }, /unknown setting "run\.ops\.stats\.wrkers"/],
      [{ gen: { ops: { stats: { workers: 1 } } } }, /gen\.ops is a section, but only "run" may hold one/],
      [{ run: { ops: { stats: { bins: 4 } } } }, /--bins is not used by --op stats .*set in the settings file/],
    ];
    for (const [values, message] of cases) {
      const r = cli(['config', '--config', config(values)]);
      expect(r.status, JSON.stringify(values)).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
