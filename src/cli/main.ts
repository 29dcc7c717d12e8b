// The bigproc binary: the command definitions plus glue. Every failure ends as one line on stderr and
// an exit code from the contract; stacks only with --debug.
import type { Command } from 'commander';
import { abortAllOutputs } from '../engine/output.js';
import { flushStdout, guardStdout, stdoutError } from '../report/stdout-guard.js';
import { BigprocError, EXIT } from '../errors.js';
import { registerRun } from './run.js';
import { registerGen } from './gen.js';
import { registerConfig } from './config.js';
import { registerMerge } from './merge.js';
import { registerBench } from './bench.js';
import { registerManifestCommands } from './manifest.js';
import { registerServe } from './serve.js';
import { registerDoctor } from './doctor.js';
import { releaseEarlyPool } from '../engine/pool.js';
import { applyConfig, configPathFromArgs, EnvCommand, loadConfigFile } from '../config/file.js';
import { reportError } from './report-error.js';
// inlined by the bundler: the version printed is the one package.json was built with
import pkg from '../../package.json' with { type: 'json' };

/** `bigproc` alone: the help on stderr (stdout is for data) and exit 2, as for any usage error. */
function noCommand(program: Command): number {
  process.stderr.write(program.helpInformation());
  return EXIT.usage;
}

/**
 * Run one command line; resolves to the exit code, which bin/bigproc.mjs exits with at once (without
 * waiting for worker threads to wind down). Returning it, rather than exiting here, lets the build's
 * code-cache warm-up run several jobs in one process.
 */
export async function main(argv: string[]): Promise<number> {
  // --debug, or BIGPROC_DEBUG=1 as its help says (commander itself refuses values that are not booleans).
  const debug = argv.includes('--debug') || /^(1|true|yes|on)$/i.test(process.env.BIGPROC_DEBUG ?? '');
  const args = argv.filter((a) => a !== '--debug');
  // A closed pipe downstream (| head) is a normal end, as in ripgrep; any other failed write is exit 1.
  guardStdout(() => {
    abortAllOutputs();
    process.exit(EXIT.ok);
  });
  const program = new EnvCommand('bigproc')
    .description('process very large fixed-record files in parallel')
    .version(pkg.version)
    .option('--debug', 'print stack traces for errors')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  registerRun(program);
  registerGen(program);
  registerMerge(program);
  registerManifestCommands(program);
  registerBench(program);
  registerServe(program);
  registerDoctor(program);
  const configCmd = registerConfig(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  try {
    // Settings: flags > BIGPROC_* environment > config file > defaults.
    const where = configPathFromArgs(args);
    const config = loadConfigFile(where.path, where.explicit);
    configCmd.setConfig(config);
    for (const c of program.commands) applyConfig(c, config);
    if (args.length === 0) return noCommand(program);
    await program.parseAsync(args, { from: 'user' });
    // Done once stdout is flushed, and only if everything written to it arrived.
    await flushStdout();
    const failed = stdoutError();
    if (failed) throw failed;
    return EXIT.ok;
  } catch (e) {
    await releaseEarlyPool();
    if (e instanceof BigprocError && e.exitCode === EXIT.ok) return EXIT.ok; // a closed pipe
    const { text, exitCode } = reportError(e, debug);
    process.stderr.write(text);
    return exitCode;
  }
}
