// Per-op settings from the settings file: `{"run": {"ops": {"stats": {"workers": 2, "chunk-size":
// "64MiB"}}}}` applies to `bigproc run` (and what `bigproc config` shows) only when the op is stats —
// what `bigproc bench --save` writes. The op is known only once the flags are parsed, so this runs
// before the action. Precedence: flags > BIGPROC_* environment > the op's section > the rest of the
// file > defaults (the op's section is the more specific part of the same file).
import type { Command } from 'commander';
import { applySetting, opSectionsOf } from '../config/file.js';
import { own } from '../keys.js';
import { OPS } from '../ops/registry.js';
import { usage } from '../errors.js';

/** Settings an op section cannot hold: they choose the op and the file, not how a run of it goes. */
const NOT_PER_OP = ['op', 'file', 'config'];

/** The op this command line runs: --op, or the op implied by --kernel or --pipeline. */
function resolvedOp(cmd: Command): string {
  const o = cmd.opts();
  if (cmd.getOptionValueSource('op') !== 'default') return String(o.op);
  return o.kernel !== undefined ? 'kernel' : o.pipeline !== undefined ? 'pipeline' : String(o.op);
}

export function applyOpSettings(cmd: Command): void {
  const read = opSectionsOf(cmd);
  if (!read) return;
  for (const name of Object.keys(read.ops)) {
    if (own(OPS, name) === undefined)
      throw usage(
        `--config ${JSON.stringify(read.path)}: unknown op section "run.ops.${name}" (valid: ${Object.keys(OPS).join(', ')})`,
      );
    for (const key of Object.keys(read.ops[name]!)) {
      if (NOT_PER_OP.includes(key))
        throw usage(
          `--config ${JSON.stringify(read.path)}: "run.ops.${name}.${key}" cannot be set per op (not: ${NOT_PER_OP.join(', ')})`,
        );
    }
  }
  const op = resolvedOp(cmd);
  for (const [key, value] of Object.entries(own(read.ops, op) ?? {})) {
    const option = cmd.options.find((o) => o.long && o.name() === key);
    const source = option ? cmd.getOptionValueSource(option.attributeName()) : undefined;
    if (source === 'cli' || source === 'env') continue; // flags and the environment win
    applySetting(cmd, read.path, key, value, `run.ops.${op}.${key}`);
  }
}

/** Install on a command with the run options (`run`, `config`), before the op-flag check. */
export function installOpSettings(cmd: Command): void {
  cmd.hook('preAction', (c) => applyOpSettings(c));
}
