// The file a bench measures: the user's (--file, opened as `run` opens it, to learn its layout), or a
// generated ticks file of --size bytes in a scratch directory that bench removes at the end.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isStreamInput, openInput } from '../cli/input.js';
import { usage, runtime } from '../errors.js';
import { fieldTypeString } from '../layout/fields.js';
import { resolveLayout } from '../layout/resolve.js';
import type { Layout } from '../layout/types.js';
import { packageRoot } from '../package-root.js';
import { childEnv, failureLine, runChild } from './child.js';
import { TICKS_DIST, TICKS_SCHEMA } from './ops.js';
import type { BenchRequest } from './request.js';

export interface BenchInput {
  path: string;
  bytes: number;
  generated: boolean;
  layout: Layout;
  /** the layout flags every `bigproc run` of the sweep gets */
  layoutArgs: string[];
}

export function bigprocBin(): string {
  return join(packageRoot() ?? '.', 'bin', 'bigproc.mjs');
}

export function describeLayout(layout: Layout): string {
  const fields = layout.fields.map((f) => `${f.name}:${fieldTypeString(f)}`).join(',');
  return `${layout.recordSize}-byte records${fields ? ` ${fields}` : ''}${layout.headerBytes ? `, ${layout.headerBytes}-byte header` : ''}`;
}

function layoutOptions(args: string[]) {
  const get = (k: string) => {
    const i = args.indexOf(k);
    return i < 0 ? undefined : args[i + 1];
  };
  const num = (k: string) => (get(k) === undefined ? undefined : Number(get(k)));
  return {
    schema: get('--schema'),
    recordSize: num('--record-size'),
    headerBytes: num('--header-bytes'),
    frame: get('--frame'),
  };
}

export function userInput(req: BenchRequest): BenchInput {
  const path = req.file!;
  if (isStreamInput(path))
    throw usage(`bench runs --file many times: give a regular file, not a pipe (received ${JSON.stringify(path)})`);
  const input = openInput(path, layoutOptions(req.layoutArgs), 64 * 2 ** 20, false);
  return { path, bytes: statSync(path).size, generated: false, layout: input.layout, layoutArgs: req.layoutArgs };
}

/** Generate ticks with `bigproc gen` (a child, so Ctrl-C ends it with the rest) into `dir`. */
export async function generatedInput(req: BenchRequest, dir: string): Promise<BenchInput> {
  const path = join(dir, 'ticks.bin');
  const records = Math.floor(req.size / 24);
  const r = await runChild(
    process.execPath,
    [
      bigprocBin(),
      'gen',
      '--schema',
      TICKS_SCHEMA,
      '--records',
      String(records),
      '--out',
      path,
      '--seed',
      req.seed,
      '--dist',
      TICKS_DIST,
      '--quiet',
      '--config',
      join(dir, 'bench.config.json'),
    ],
    childEnv(),
  );
  if (r.code !== 0) throw runtime(`bench: generating the ${records}-record file in ${dir} failed: ${failureLine(r)}`);
  const layout = resolveLayout({ schema: TICKS_SCHEMA }, null, path);
  return { path, bytes: statSync(path).size, generated: true, layout, layoutArgs: ['--schema', TICKS_SCHEMA] };
}
