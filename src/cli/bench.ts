// `bigproc bench`: how fast bigproc goes on this machine, how close that is to what the hardware
// allows, and which settings to use (see src/bench/). This file is the command's flags and its output.
import type { Command } from 'commander';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { addLayoutOptions } from './run.js';
import { DEFAULT_CONFIG } from '../config/file.js';
import { expected } from '../errors.js';
import { killChildren } from '../bench/child.js';
import { renderHtml } from '../bench/html.js';
import { SILENT, stderrProgress } from '../bench/progress.js';
import { DEFAULT_CHUNK, parseRequest, type BenchFlags } from '../bench/request.js';
import { saveRecommendations } from '../bench/save.js';
import { formatReport } from '../bench/table.js';
import { exitCodeFor, onStopSignals } from '../engine/signals.js';
import type { BenchDocument } from '../bench/types.js';

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description("measure this machine's limits, sweep settings, recommend (and --save) the fastest");
  cmd.option('--file <path>', 'measure this file (default: generate a ticks file of --size, removed at the end)');
  addLayoutOptions(cmd)
    .option(
      '--size <size>',
      'size of the generated file (default: the smaller of 4GiB and a quarter of the free memory)',
    )
    .option('--ops <list>', "ops with their options: 'stats,filter:where=price > 110,hist:field=price,range=80:120'")
    .option('--workers <list>', 'worker counts to sweep (default 1,2,4,… up to the cores)')
    .option('--chunk-size <list>', 'chunk sizes to sweep', DEFAULT_CHUNK)
    .option('--backends <list>', 'backends to sweep: native, js, auto (default: native where the addon loads)')
    .option('--repeat <n>', 'counted runs per configuration', '5')
    .option('--warmup <n>', 'uncounted runs per configuration first', '1')
    .option('--cold', 'also measure the storage limit with the file dropped from the page cache')
    .option('--compare', 'also time the numpy.memmap program for each op (needs python3 with NumPy)')
    .option('--json', 'print one JSON document')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--save', 'write the recommendation per op into the settings file (run.ops.<op>)')
    .option('--seed <s>', 'seed of the generated file', '7')
    .option('--tmp-dir <dir>', 'where the generated file goes (default: the system temp directory)')
    .option('-q, --quiet', 'nothing on stderr')
    .option('--config <path>', 'settings file (default ./bigproc.config.json when present); --save writes here')
    .action(async (flags: BenchFlags, command: Command) => {
      await benchCommand(onlyWhatApplies(flags, command));
    });
}

/**
 * Settings meant for other commands reach bench through the settings file's top level and the
 * environment (a `schema` for run, say): without --file, layout settings that were not given on the
 * command line are left out, as is --size with --file. Given as flags, they are refused (request.ts).
 */
function onlyWhatApplies(flags: BenchFlags, command: Command): BenchFlags {
  const out = { ...flags };
  const inherited = (key: keyof BenchFlags) => out[key] !== undefined && command.getOptionValueSource(key) !== 'cli';
  const drop =
    out.file === undefined ? (['schema', 'recordSize', 'headerBytes', 'frame'] as const) : (['size'] as const);
  for (const key of drop) if (inherited(key)) delete out[key];
  return out;
}

/** Scratch space removed at the end, on failure and on Ctrl-C (the measured children are ended first). */
function withScratch<T>(parent: string, quiet: boolean, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(parent, 'bigproc-bench-'));
  writeFileSync(join(dir, 'bench.config.json'), '{}\n');
  const release = onStopSignals((signal) => {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
    if (!quiet) process.stderr.write(`\nbigproc: bench interrupted (${signal}); ${dir} removed\n`);
    process.exit(exitCodeFor(signal));
  });
  return body(dir).finally(() => {
    release();
    rmSync(dir, { recursive: true, force: true });
  });
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** --html is checked before minutes of measuring, not after: its directory must exist, it must not be one. */
function checkHtmlTarget(path: string): void {
  const dir = existsSync(dirname(resolve(path))) && statSync(dirname(resolve(path))).isDirectory();
  if (!dir || (existsSync(path) && statSync(path).isDirectory()))
    throw expected('--html', 'a file path in an existing directory', path);
}

async function benchCommand(flags: BenchFlags): Promise<void> {
  if (!/^-?\d+$/.test(flags.seed)) throw expected('--seed', 'an integer', flags.seed);
  const req = parseRequest(flags);
  // Loaded here: the benchmark's runner brings node:crypto, which every other command would load for nothing.
  const { runBench } = await import('../bench/run-bench.js');
  if (req.html) checkHtmlTarget(req.html);
  const progress = req.quiet ? SILENT : stderrProgress();
  const doc: BenchDocument = await withScratch(req.tmpDir ?? tmpdir(), req.quiet, (dir) =>
    runBench(req, dir, progress),
  );
  process.stdout.write(req.json ? `${JSON.stringify(doc)}\n` : `${formatReport(doc)}\n`);
  const note = (line: string) => (req.quiet ? undefined : process.stderr.write(`${line}\n`));
  if (req.html) {
    writeAtomically(req.html, renderHtml(doc));
    note(`bench: report written to ${req.html}`);
  }
  if (req.save) {
    const path = resolve(flags.config ?? process.env.BIGPROC_CONFIG ?? DEFAULT_CONFIG);
    for (const line of saveRecommendations(path, doc.recommendations)) note(`bench: saved ${line} in ${path}`);
  }
}
