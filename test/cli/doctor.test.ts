// bigproc doctor: one line per backend with what really runs or why not, as text and --json; quick,
// and never hanging — a probe whose library blocks (here: gpu.js connecting to an X server that
// accepts and never answers) is killed at --timeout and reported absent.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, json } from './helpers.js';

const run = promisify(execFile);
type Doc = { backends: Record<string, { available: boolean; detail: string }> };
const NAMES = ['native', 'js', 'gpu', 'webgpu', 'sharp'];

describe('bigproc doctor', () => {
  it('--json: every backend with available and detail; native names the dispatch levels run uses', () => {
    const doc = json(cli(['doctor', '--json'], { env: { DISPLAY: '' } })) as Doc;
    expect(Object.keys(doc.backends)).toEqual(NAMES);
    expect(doc.backends.native).toEqual({
      available: true,
      detail: expect.stringMatching(
        /^(avx512f|avx2|default|neon) kernels, image kernels (avx512vbmi|avx512bw|avx2|default|neon) \(\w+\)$/,
      ),
    });
    expect(doc.backends.js!.available).toBe(true);
    expect(doc.backends.gpu).toEqual({
      available: false,
      detail: expect.stringMatching(/^--backend gpu: no X display .*xvfb-run/),
    });
    for (const name of ['webgpu', 'sharp']) expect(doc.backends[name]!.detail).toMatch(/\w/);
  });

  it('text: a header and one line per backend', () => {
    const r = cli(['doctor'], { env: { DISPLAY: '' } });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^backend\s+available\s+detail$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(NAMES);
    expect(lines[3]).toMatch(/^gpu\s+no\s+--backend gpu: no X display/);
  });

  it('under xvfb-run: gpu.js runs a real HeadlessGLKernel, flagged when it is a software renderer', {
    timeout: 30_000,
  }, () => {
    const r = spawnSync('xvfb-run', ['-a', process.execPath, BIN, 'doctor', '--json'], { encoding: 'utf8' });
    const gpu = (JSON.parse(r.stdout) as Doc).backends.gpu!;
    expect(gpu.available).toBe(true);
    expect(gpu.detail).toMatch(/^HeadlessGLKernel \(headlessgl, ANGLE \(.+\)\)/);
    if (/llvmpipe/.test(gpu.detail)) expect(gpu.detail).toMatch(/a software renderer on the CPU, not a GPU$/);
  });

  describe('an X server that never answers', () => {
    let server: Server;
    let display = '';
    const sockets: Socket[] = [];
    beforeAll(async () => {
      server = createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      display = `127.0.0.1:${port - 6000}`;
    });
    afterAll(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });

    it('the gpu probe is killed at --timeout and reported absent; the others still answer', {
      timeout: 30_000,
    }, async () => {
      const t = performance.now();
      // async: the test's own event loop must accept the probe's connection
      const r = await run(process.execPath, [BIN, 'doctor', '--json', '--timeout', '1500ms'], {
        env: { ...process.env, DISPLAY: display },
      });
      const ms = performance.now() - t;
      const doc = JSON.parse(r.stdout) as Doc;
      expect(doc.backends.gpu).toEqual({
        available: false,
        detail: 'the probe did not answer within 1.5 s (--timeout)',
      });
      expect(doc.backends.native!.available).toBe(true);
      expect(sockets.length).toBeGreaterThan(0);
      expect(ms).toBeLessThan(10_000);
    });
  });

  it('a bad --timeout: exit 2, one line', () => {
    const r = cli(['doctor', '--timeout', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bigproc: --timeout: expected a duration above 0 but received "0"\n$/);
  });
});
