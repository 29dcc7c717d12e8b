// Flags that the chosen op (or the kind of run) would not read are errors, never silently ignored:
// `--op stats --where 'x > 1'` would otherwise print unfiltered statistics as if they were filtered.
// Each op declares its flags (src/ops/*.ts `flags:`); run.ts registers their union on `run` and
// `config`, and this check runs before their action, whatever gave the value: a flag, a BIGPROC_*
// variable or the settings file.
import { Option, type Command } from 'commander';
import { OPS, opKey } from '../ops/registry.js';
import { own } from '../keys.js';
import { usage } from '../errors.js';

/** Long name of an op flag (e.g. "max-groups") → the ops that declare it, in registry order. */
export function opFlagOwners(): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const op of Object.values(OPS)) {
    for (const f of op.flags ?? []) {
      const name = new Option(f.flags).name();
      owners.set(name, [...(owners.get(name) ?? []), op.name]);
    }
  }
  return owners;
}

/**
 * Run-level flags read only by a run shared between hosts (--manifest), with the flags that make
 * them matter: without one of those they would be parsed and then ignored.
 */
const SHARED_ONLY: ReadonlyArray<[flag: string, needs: string[]]> = [
  ['run-id', ['manifest']],
  ['shard-size', ['manifest']],
  ['max-attempts', ['manifest']],
  ['backoff', ['manifest']],
  ['grace', ['manifest']],
  ['lease', ['manifest', 'exclusive']],
];

/** Where a set value came from, in words; null when nothing but a default (or `false`) set it. */
function givenBy(cmd: Command, name: string): string | null {
  const o = cmd.options.find((x) => x.long === `--${name}`);
  if (!o) return null;
  const value = cmd.getOptionValue(o.attributeName());
  if (value === undefined || value === false) return null;
  switch (cmd.getOptionValueSource(o.attributeName())) {
    case 'cli':
      return 'given on the command line';
    case 'env':
      return `set by ${o.envVar}`;
    case 'config':
      return 'set in the settings file';
    default:
      return null;
  }
}

/** `--kernel F` or `--pipeline F` without an explicit --op picks that op (as the op's name would). */
function pickImpliedOp(cmd: Command): void {
  if (givenBy(cmd, 'op') !== null) return;
  const implied = givenBy(cmd, 'kernel') !== null ? 'kernel' : givenBy(cmd, 'pipeline') !== null ? 'pipeline' : null;
  if (implied) cmd.setOptionValueWithSource('op', implied, 'implied');
}

function checkOpOwnFlags(cmd: Command, op: string): void {
  for (const [name, owners] of opFlagOwners()) {
    if (owners.includes(op)) continue;
    const from = givenBy(cmd, name);
    if (from) throw usage(`--${name} is not used by --op ${op} (only by: ${owners.join(', ')}); it was ${from}`);
  }
}

function checkSharedFlags(cmd: Command): void {
  for (const [name, needs] of SHARED_ONLY) {
    const from = givenBy(cmd, name);
    if (from && !needs.some((n) => givenBy(cmd, n) !== null)) {
      throw usage(
        `--${name} is only used with ${needs.map((n) => `--${n}`).join(' or ')}, which this run does not have; it was ${from}`,
      );
    }
  }
  for (const name of ['shard-count', 'shard-index']) {
    const from = givenBy(cmd, name);
    if (from && givenBy(cmd, 'manifest') !== null) {
      throw usage(
        `--${name} (static sharding) cannot be combined with --manifest, which hands out shards itself; it was ${from}`,
      );
    }
  }
}

/** Refuse every set flag that this run would not read. Unknown ops are left to the op lookup. */
export function checkOpFlags(cmd: Command): void {
  pickImpliedOp(cmd);
  const op = opKey(String(cmd.getOptionValue('op') ?? 'stats'));
  if (own(OPS, op) !== undefined) checkOpOwnFlags(cmd, op);
  checkSharedFlags(cmd);
}

/** Install the check on a command that has the run options (`run`, `config`). */
export function guardOpFlags(cmd: Command): void {
  cmd.hook('preAction', (c) => checkOpFlags(c));
}
