// Settings precedence: flags > BIGPROC_* environment > config file > defaults, and `bigproc config`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
let cfg: string;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, 20_000);
  cfg = join(dir, 'bigproc.config.json');
  writeFileSync(cfg, JSON.stringify({ workers: 3, 'chunk-size': '64KiB', schema: TICKS, run: { backend: 'js' } }));
});
afterAll(() => cleanup());

function settings(args: string[], env: NodeJS.ProcessEnv = {}) {
  const doc = json(cli(['config', '--config', cfg, '--json', ...args], { env }));
  return Object.fromEntries(
    doc.settings.map((s: { option: string; value: unknown; source: string }) => [s.option, [s.value, s.source]]),
  );
}

describe('settings precedence', () => {
  it('file over defaults, env over file, flags over env', () => {
    const fromFile = settings([]);
    expect(fromFile['--workers']).toEqual(['3', expect.stringMatching(/^config .*bigproc\.config\.json$/)]);
    expect(fromFile['--backend'][0]).toBe('js');
    expect(fromFile['--op']).toEqual(['stats', 'default']);
    const fromEnv = settings([], { BIGPROC_WORKERS: '5' });
    expect(fromEnv['--workers']).toEqual(['5', 'env BIGPROC_WORKERS']);
    const fromFlag = settings(['--workers', '7'], { BIGPROC_WORKERS: '5' });
    expect(fromFlag['--workers']).toEqual(['7', 'flag']);
  });

  it('run uses the resolved settings', () => {
    const doc = json(cli(['run', '--config', cfg, '--file', ticks, '--json']));
    expect(doc.metrics.backend).toBe('js');
    expect(doc.metrics.chunks).toBe(Math.ceil(20_000 / Math.floor(65536 / 24)));
    const env = json(
      cli(['run', '--config', cfg, '--file', ticks, '--json'], {
        env: { BIGPROC_CHUNK_SIZE: '1MiB', BIGPROC_BACKEND: 'native' },
      }),
    );
    expect(env.metrics.backend).toBe('native');
    expect(env.metrics.chunks).toBe(1);
    expect(env.result).toEqual(doc.result);
  });

  it('a bad config file is exit 2 with one line naming the problem', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ wrkers: 3 }));
    const r = cli(['run', '--config', bad, '--file', ticks]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown setting "wrkers"/);
    writeFileSync(bad, '{not json');
    expect(cli(['run', '--config', bad, '--file', ticks]).status).toBe(2);
    expect(cli(['run', '--config', join(dir, 'nope.json'), '--file', ticks]).status).toBe(2);
    const badEnv = cli(['run', '--file', ticks, '--schema', TICKS], { env: { BIGPROC_WORKERS: 'many' } });
    expect(badEnv.status).toBe(2);
    expect(badEnv.stderr).toMatch(/--workers.*many/);
  });
});
