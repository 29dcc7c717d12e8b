// Chaos: four processes on one manifest while a monkey SIGKILLs random ones and starts replacements.
// Whatever it kills, the run ends with the single-process result and exactly one commit per shard.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { TICKS, cli, genTicks, json, tempDir } from '../cli/helpers.js';
import { KERNEL, events, expectOneCommitPerShard, sleep, start, type Proc } from '../cli/manifest-suite.js';

export function chaosSuite(
  name: string,
  setup: () => Promise<{ url: () => string; cleanup: () => Promise<void> }>,
): void {
  describe(`chaos (${name})`, () => {
    let dir: string;
    let cleanupDir: () => void;
    let file: string;
    let newUrl: () => string;
    let cleanupBackend: () => Promise<void>;
    beforeAll(async () => {
      ({ dir, cleanup: cleanupDir } = tempDir());
      file = join(dir, 'ticks.bin');
      genTicks(file, 400_000, 11);
      ({ url: newUrl, cleanup: cleanupBackend } = await setup());
    }, 60_000);
    afterAll(async () => {
      await cleanupBackend();
      cleanupDir();
    });

    it('random SIGKILLs and restarts of 4 processes: single-process result, one commit per shard', async () => {
      const url = newUrl();
      const base = ['run', '--file', file, '--schema', TICKS, '--quiet', '--kernel', KERNEL, '--chunk-size', '64KiB'];
      const args = [
        ...base,
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'chaos',
        '--workers',
        '1',
        '--lease',
        '700ms',
        '--json',
      ];
      const env = { SLOW_MS: '40' };
      const procs = new Set<Proc>();
      const finished: { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }[] = [];
      const launch = () => {
        const p = start(args, env);
        procs.add(p);
        void p.done.then((o) => {
          procs.delete(p);
          finished.push(o);
        });
      };
      for (let i = 0; i < 4; i++) launch();
      let kills = 0;
      // A seeded monkey, so a failure can be replayed.
      let seed = 12345;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        await sleep(150 + rand() * 350);
        const live = [...procs];
        if (live.length === 0) break;
        const victim = live[Math.floor(rand() * live.length)]!;
        victim.kill('SIGKILL');
        kills++;
        await victim.done;
        launch();
      }
      // Let the survivors (and the replacements) finish the run.
      while (procs.size > 0) await Promise.race([...procs].map((p) => p.done));
      const clean = finished.filter((o) => o.signal === null);
      for (const o of clean) expect(o.status, o.stderr).toBe(0);
      expect(kills).toBeGreaterThan(3);
      const single = json(cli([...base, '--json']));
      const status = json(cli(['status', '--manifest', url, '--run-id', 'chaos', '--json']));
      expect(status.state).toBe('done');
      expect(status.result).toEqual(single.result);
      const evs = events(url, 'chaos');
      expectOneCommitPerShard(evs, status.shards.total);
      expect(evs.filter((e) => e.type === 'merged')).toHaveLength(1);
      // Killed holders' leases were taken over (orphan recovery), not waited out by luck.
      expect(evs.filter((e) => e.type === 'expired').length).toBeGreaterThan(0);
      console.log(
        `${name}: ${kills} kills, ${evs.filter((e) => e.type === 'expired').length} takeovers, ${status.shards.total} shards`,
      );
    }, 120_000);
  });
}
