// One bench from request to document: the file, the limits, the interleaved sweep (with the NumPy
// cases of --compare), the summary and the recommendation. Every child process runs here, one at a
// time; the caller owns the scratch directory and the signals.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { limitsProgram, measureLimit, unmeasured } from './limits.js';
import { checkNumpy, numpyArgs, numpySpec, PYTHON } from './compare.js';
import { describeMachine } from './machine.js';
import { defaultOps, opArgs } from './ops.js';
import { expandGrid, planRuns } from './plan.js';
import type { BenchProgress } from './progress.js';
import { recommendAll } from './recommend.js';
import { DEFAULT_CHUNK, type BenchRequest } from './request.js';
import { parseSize } from '../config/units.js';
import { summarize } from './summary.js';
import { runSweep, type Invocation } from './sweep.js';
import { bigprocBin, describeLayout, generatedInput, userInput, type BenchInput } from './input.js';
import type { BenchCase, BenchDocument, BenchOp, Limit } from './types.js';

export async function measureLimits(req: BenchRequest, file: string, progress: BenchProgress): Promise<Limit[]> {
  const threads = availableParallelism();
  const kinds: Limit['kind'][] = req.cold ? ['cold', 'read', 'mem'] : ['read', 'mem'];
  let program: string;
  try {
    progress.phase('compiling native/limits.c (first use only)');
    program = await limitsProgram();
  } catch (e) {
    return kinds.map((k) => unmeasured(k, k === 'mem' ? threads : 1, (e as Error).message));
  }
  const limits: Limit[] = [];
  // cold first: right after the drop nothing else has read the file back in
  for (const kind of kinds) {
    progress.phase(
      `measuring the ${kind === 'mem' ? 'memory-read' : kind === 'read' ? 'read(2)' : 'cold storage'} limit`,
    );
    limits.push(await measureLimit(program, kind, file, kind === 'mem' ? threads : 1, Math.max(3, req.repeat)));
  }
  return limits;
}

interface Compare {
  ops: BenchOp[];
  specs: Map<string, Record<string, unknown>>;
  note: string | null;
}

async function prepareCompare(req: BenchRequest, ops: BenchOp[], input: BenchInput): Promise<Compare> {
  const none: Compare = { ops: [], specs: new Map(), note: null };
  if (!req.compare) return none;
  const check = await checkNumpy();
  if (!check.ok) return { ...none, note: check.reason };
  const specs = new Map<string, Record<string, unknown>>();
  for (const op of ops) {
    const spec = numpySpec(op, input.layout, input.path, input.bytes);
    if (spec) specs.set(op.label, spec);
  }
  const left = ops.filter((o) => !specs.has(o.label)).map((o) => o.label);
  const note = left.length
    ? `--compare: no NumPy program for ${left.join(', ')} (it covers stats, filter without --out, hist)`
    : null;
  return { ops: ops.filter((o) => specs.has(o.label)), specs, note };
}

function invocations(input: BenchInput, configPath: string, compare: Compare): (c: BenchCase) => Invocation {
  return (c) => {
    if (c.tool === 'numpy') return { command: PYTHON, args: numpyArgs(compare.specs.get(c.op.label)!) };
    return {
      command: process.execPath,
      args: [
        bigprocBin(),
        'run',
        '--file',
        input.path,
        ...input.layoutArgs,
        ...opArgs(c.op),
        '--workers',
        String(c.workers),
        '--chunk-size',
        String(c.chunk_size),
        '--backend',
        c.backend,
        '--json',
        '--quiet',
        '--config',
        configPath,
      ],
    };
  };
}

/** The whole bench; `scratch` holds the generated file and an empty settings file for the runs. */
export async function runBench(req: BenchRequest, scratch: string, progress: BenchProgress): Promise<BenchDocument> {
  const t0 = performance.now();
  const configPath = join(scratch, 'bench.config.json'); // "{}": the user's settings file must not steer the runs
  progress.phase(
    req.file ? `measuring ${req.file}` : `generating a ${(req.size / 2 ** 30).toFixed(2)} GiB ticks file in ${scratch}`,
  );
  const input = req.file ? userInput(req) : await generatedInput(req, scratch);
  const limits = await measureLimits(req, input.path, progress);
  const ops = req.ops ?? defaultOps(req.file ? input.layout : null);
  const compare = await prepareCompare(req, ops, input);
  const cases = expandGrid({
    ops,
    workers: req.workers,
    chunkSizes: req.chunkSizes,
    backends: req.backends,
    numpyOps: compare.ops,
  });
  const plan = planRuns(cases.length, req.warmup, req.repeat);
  progress.phase(`sweeping ${cases.length} configurations × ${req.warmup} warm-up + ${req.repeat} runs, interleaved`);
  const runs = await runSweep(plan, cases, input.bytes, invocations(input, configPath, compare), progress);
  const summary = summarize(cases, runs, limits);
  const recommendations = recommendAll(summary, {
    defaultChunkSize: parseSize(DEFAULT_CHUNK, '--chunk-size'),
    backends: req.backends,
  });
  return {
    version: 1,
    date: new Date().toISOString(),
    machine: describeMachine(),
    file: { path: input.path, bytes: input.bytes, generated: input.generated, layout: describeLayout(input.layout) },
    settings: { warmup: req.warmup, repeat: req.repeat, cold: req.cold, compare: req.compare },
    limits,
    cases,
    runs,
    summary,
    recommendations,
    compare_note: compare.note,
    seconds: (performance.now() - t0) / 1000,
  };
}
