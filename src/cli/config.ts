// `bigproc config`: the settings `bigproc run` would use with these flags, and where each came from
// (flag, BIGPROC_* environment variable, config file or default).
import type { Command } from 'commander';
import { defineRunOptions } from './run.js';
import { redact } from '../redact.js';
import { describeSources, type ConfigFile } from '../config/file.js';
import { table } from '../report/format.js';
import { parseDuration, parseLease, parseNonNegativeInt, parsePositiveInt, parseSize } from '../config/units.js';
import { getOp } from '../ops/registry.js';
import { BACKENDS } from './backend.js';
import { expected } from '../errors.js';

export function registerConfig(program: Command): Command & { setConfig(c: ConfigFile | null): void } {
  let config: ConfigFile | null = null;
  const cmd = program.command('config').description('print the resolved settings for `run` and where each came from');
  defineRunOptions(cmd);
  cmd.action(() => {
    checkRunValues(cmd.opts());
    const rows = describeSources(cmd, config);
    if (cmd.opts().json) {
      process.stdout.write(`${redact(JSON.stringify({ config_file: config?.path ?? null, settings: rows }))}\n`);
      return;
    }
    process.stdout.write(`${config ? `config file: ${config.path}` : 'config file: none'}\n`);
    // a --manifest URL's password (from a flag, BIGPROC_MANIFEST or the file) is shown masked
    process.stdout.write(
      `${table(
        ['option', 'value', 'source'],
        rows.map((r) => [r.option, r.value === null ? '-' : redact(String(r.value)), r.source]),
        3,
      )}\n`,
    );
  });
  return Object.assign(cmd, { setConfig: (c: ConfigFile | null) => (config = c) });
}

/**
 * The checks `run` makes on its general settings, with the same parsers and messages, so that
 * `bigproc config` never shows a value (`--workers -4`) that run would refuse. Op options need the
 * file's layout and are checked by run only; flags the op would ignore are refused before this.
 */
function checkRunValues(o: Record<string, string | boolean | undefined>): void {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const check = <T>(v: unknown, parse: (s: string) => T) => (str(v) === undefined ? undefined : parse(str(v)!));
  getOp(String(o.op));
  if (!(BACKENDS as readonly string[]).includes(String(o.backend)))
    throw expected('--backend', `one of ${BACKENDS.join(', ')}`, o.backend);
  check(o.workers, (s) => parsePositiveInt(s, '--workers', 1024));
  check(o.chunkSize, (s) => {
    if (parseSize(s, '--chunk-size') < 1) throw expected('--chunk-size', 'a positive size', s);
  });
  check(o.recordSize, (s) => parsePositiveInt(s, '--record-size'));
  check(o.headerBytes, (s) => parseNonNegativeInt(s, '--header-bytes'));
  check(o.shardSize, (s) => parseSize(s, '--shard-size'));
  check(o.lease, parseLease);
  check(o.maxAttempts, (s) => parsePositiveInt(s, '--max-attempts', 1000));
  check(o.grace, (s) => parseDuration(s, '--grace'));
  check(o.backoff, (s) => parseDuration(s, '--backoff'));
  check(o.shardCount, (s) => parsePositiveInt(s, '--shard-count', 1_000_000));
  check(o.shardIndex, (s) => parseNonNegativeInt(s, '--shard-index'));
}
