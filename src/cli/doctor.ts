// `bigproc doctor`: one line per backend saying whether this machine has it and what really runs
// (native's dispatch level, gpu.js's kernel class and renderer, the WebGPU adapter, sharp's libvips),
// or why not. Quick and never hanging: the probes that load GPU or image libraries each run in a child
// process (`doctor --probe NAME`, hidden) killed after --timeout (default 15 s), all at once.
import { execFile } from 'node:child_process';
import { type Command, Option } from 'commander';
import { usage } from '../errors.js';
import { parseDuration } from '../config/units.js';
import { table } from '../report/format.js';
import { BACKEND_NAMES, type BackendName, CHILD_PROBES, type ProbeResult, probe } from '../doctor/probe.js';

/** Time allowed to each child probe by default (gpu.js on llvmpipe takes about a second). */
const PROBE_TIMEOUT = '15s';

/** The probe in a child bigproc; its one JSON line, or why it gave none in time. */
function childProbe(name: BackendName, timeoutMs: number): Promise<ProbeResult> {
  const args = [...process.execArgv, process.argv[1]!, 'doctor', '--probe', name];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ProbeResult);
      } catch {
        const what = err?.killed
          ? `the probe did not answer within ${timeoutMs / 1000} s (--timeout)`
          : `the probe exited ${err?.code ?? 0} without an answer`;
        resolve({ available: false, detail: what });
      }
    });
  });
}

async function probeAll(timeoutMs: number): Promise<Record<BackendName, ProbeResult>> {
  const results = await Promise.all(
    BACKEND_NAMES.map((name) => (CHILD_PROBES.includes(name) ? childProbe(name, timeoutMs) : probe(name))),
  );
  return Object.fromEntries(BACKEND_NAMES.map((name, i) => [name, results[i]!])) as Record<BackendName, ProbeResult>;
}

function format(r: Record<BackendName, ProbeResult>): string {
  const rows = BACKEND_NAMES.map((name) => [name, r[name].available ? 'yes' : 'no', r[name].detail]);
  return table(['backend', 'available', 'detail'], rows, 3);
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('say which backends this machine has (native, js, gpu, webgpu) and whether sharp writes PNG')
    .option('--json', 'print one JSON document')
    .option(
      '--timeout <duration>',
      'time allowed to each probe (a hung driver or X server counts as absent)',
      PROBE_TIMEOUT,
    )
    .addOption(new Option('--probe <name>', 'run one probe and print its JSON (used by doctor itself)').hideHelp())
    .action(async (flags: { json?: boolean; probe?: string; timeout: string }) => {
      if (flags.probe !== undefined) {
        if (!(BACKEND_NAMES as readonly string[]).includes(flags.probe))
          throw usage(
            `--probe: expected one of ${BACKEND_NAMES.join(', ')} but received ${JSON.stringify(flags.probe)}`,
          );
        process.stdout.write(`${JSON.stringify(await probe(flags.probe as BackendName))}\n`);
        return;
      }
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      if (timeoutMs <= 0)
        throw usage(`--timeout: expected a duration above 0 but received ${JSON.stringify(flags.timeout)}`);
      const results = await probeAll(timeoutMs);
      process.stdout.write(flags.json ? `${JSON.stringify({ backends: results })}\n` : `${format(results)}\n`);
    });
}
