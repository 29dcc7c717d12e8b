// `bigproc config`: the settings `bigproc run` would use with these flags, and where each came from
// (flag, BIGPROC_* environment variable, config file or default).
import type { Command } from 'commander';
import { defineRunOptions } from './run.js';
import { redact } from '../redact.js';
import { describeSources, type ConfigFile } from '../config/file.js';
import { table } from '../report/format.js';

export function registerConfig(program: Command): Command & { setConfig(c: ConfigFile | null): void } {
  let config: ConfigFile | null = null;
  const cmd = program.command('config').description('print the resolved settings for `run` and where each came from');
  defineRunOptions(cmd);
  cmd.action(() => {
    const rows = describeSources(cmd, config);
    if (cmd.opts().json) {
      process.stdout.write(`${redact(JSON.stringify({ config_file: config?.path ?? null, settings: rows }))}\n`);
      return;
    }
    process.stdout.write(`${config ? `config file: ${config.path}` : 'config file: none'}\n`);
    // a --manifest URL's password (from a flag, BIGPROC_MANIFEST or the file) is shown masked
    process.stdout.write(`${table(['option', 'value', 'source'], rows.map((r) => [r.option, r.value === null ? '-' : redact(String(r.value)), r.source]), 3)}\n`);
  });
  return Object.assign(cmd, { setConfig: (c: ConfigFile | null) => (config = c) });
}
