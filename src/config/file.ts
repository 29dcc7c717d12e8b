// Settings from a config file and the environment, under the flags: flags win over the environment
// (BIGPROC_<FLAG>), the environment over the file (bigproc.config.json, or --config PATH), the file
// over defaults. Commander keeps the source of every value, which `bigproc config` prints.
import { existsSync } from 'node:fs';
import { readSmallFile } from './small-file.js';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import { Command, type Option } from 'commander';
import { expected, usage } from '../errors.js';

export const DEFAULT_CONFIG = 'bigproc.config.json';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
// Sections hold scalars, and `run` may hold `ops`: one more level of per-op sections (checked in applyConfig).
const opSections = z.record(z.string(), z.record(z.string(), scalar));
const fileSchema = z.record(z.string(), z.union([scalar, z.record(z.string(), z.union([scalar, opSections]))]));

type Scalar = string | number | boolean;
/** `"run": {"ops": {"stats": {"workers": 2}}}`: settings of `run` that apply only with that op. */
export type OpSections = Record<string, Record<string, Scalar>>;
export const OPS_KEY = 'ops';

export interface ConfigFile {
  path: string;
  /** settings for every command, then per-command sections ("run": {…}, with per-op sections in run.ops) */
  values: Record<string, Scalar | Record<string, Scalar | OpSections>>;
}

/** The per-op sections a command read from the file (run and config only), for cli/op-settings.ts. */
const opSectionsRead = new WeakMap<Command, { path: string; ops: OpSections }>();

export function opSectionsOf(cmd: Command): { path: string; ops: OpSections } | undefined {
  return opSectionsRead.get(cmd);
}

/** The --config value from raw arguments (or BIGPROC_CONFIG), before commander parses them. */
export function configPathFromArgs(args: string[]): { path: string; explicit: boolean } {
  const i = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  const given =
    i < 0 ? process.env.BIGPROC_CONFIG : args[i]!.includes('=') ? args[i]!.slice('--config='.length) : args[i + 1];
  return given ? { path: given, explicit: true } : { path: DEFAULT_CONFIG, explicit: false };
}

export function loadConfigFile(path: string, explicit: boolean): ConfigFile | null {
  if (!existsSync(path)) {
    if (explicit) throw expected('--config', 'an existing JSON file', path);
    return null;
  }
  const text = readSmallFile(path, '--config');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw usage(`--config ${JSON.stringify(path)} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw usage(
      `--config ${JSON.stringify(path)}: ${issue.path.join('.') || 'the file'}: ${issue.message} (expected an object of option names to strings, numbers or booleans)`,
    );
  }
  // The checked JSON itself, not zod's copy: that drops a "__proto__" key, which must be reported as
  // an unknown setting like any other misspelt name.
  return { path: resolve(path), values: raw as ConfigFile['values'] };
}

export function envName(option: Option): string {
  return `BIGPROC_${option.name().toUpperCase().replace(/-/g, '_')}`;
}

/**
 * A Command whose options each read a BIGPROC_* variable. Commander wires the environment only for
 * options that have their variable when they are added, hence the factory override.
 */
export class EnvCommand extends Command {
  override createCommand(name?: string): EnvCommand {
    return new EnvCommand(name);
  }
  override createOption(flags: string, description?: string): Option {
    const o = super.createOption(flags, description);
    if (o.long && !['config', 'help', 'version'].includes(o.name())) o.env(envName(o));
    return o;
  }
  /**
   * Commander turns a boolean option on whenever its variable exists, whatever it holds
   * (BIGPROC_ALLOW_PARTIAL=false meant true). This listener runs after commander's and sets the
   * value the variable really says, or refuses it.
   */
  override addOption(option: Option): this {
    super.addOption(option);
    const name = option.envVar;
    if (name && !option.required && !option.optional) {
      this.on(`optionEnv:${option.name()}`, () => {
        const value = parseEnvBoolean(name, process.env[name]);
        this.setOptionValueWithSource(option.attributeName(), option.negate ? !value : value, 'env');
      });
    }
    return this;
  }
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** A boolean from the environment: true/false, 1/0, yes/no, on/off (any case); anything else is refused. */
export function parseEnvBoolean(variable: string, raw: string | undefined): boolean {
  const word = (raw ?? '').trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw expected(variable, 'true/false, 1/0, yes/no or on/off', raw ?? '');
}

/**
 * Set one of a command's options from the file (`where` names the key, e.g. "run.workers"), with
 * source 'config'. An unknown name, or a value of the wrong kind, is an error listing the valid names.
 */
export function applySetting(cmd: Command, configPath: string, key: string, value: Scalar, where: string): void {
  const o = cmd.options.find((x) => x.long && x.name() === key);
  if (!o) {
    const valid = cmd.options.filter((x) => x.long && x.name() !== 'config').map((x) => x.name());
    throw usage(
      `--config ${JSON.stringify(configPath)}: unknown setting ${JSON.stringify(where)} for bigproc ${cmd.name()} (valid: ${valid.join(', ')})`,
    );
  }
  const takesValue = o.required || o.optional;
  if (takesValue && typeof value === 'boolean') throw expected(`--config ${where}`, 'a string or a number', value);
  if (!takesValue && typeof value !== 'boolean') throw expected(`--config ${where}`, 'true or false', value);
  cmd.setOptionValueWithSource(o.attributeName(), takesValue ? String(value) : value, 'config');
}

/**
 * Set a command's options from the file, with source 'config', before parsing: commander then lets the
 * environment and the flags override them. Unknown keys are errors that list the valid ones. Per-op
 * sections (run.ops) are only kept here: the op is known after parsing (cli/op-settings.ts).
 */
export function applyConfig(cmd: Command, config: ConfigFile | null): void {
  if (!config) return;
  const names = new Set(cmd.options.filter((o) => o.long).map((o) => o.name()));
  const apply = (key: string, value: Scalar, where: string) => applySetting(cmd, config.path, key, value, where);
  const commandNames = new Set(cmd.parent?.commands.map((c) => c.name()) ?? []);
  for (const [key, value] of Object.entries(config.values)) {
    if (typeof value === 'object') {
      if (!commandNames.has(key))
        throw usage(
          `--config ${JSON.stringify(config.path)}: unknown section ${JSON.stringify(key)} (valid: ${[...commandNames].join(', ')})`,
        );
      // `bigproc config` shows what `run` would use, so it reads the run section too.
      const section = cmd.name() === 'config' ? 'run' : cmd.name();
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'object') {
          if (key === section) apply(k, v, `${key}.${k}`);
        } else if (key !== 'run' || k !== OPS_KEY) {
          throw usage(
            `--config ${JSON.stringify(config.path)}: ${key}.${k} is a section, but only "run" may hold one, named "${OPS_KEY}" (per-op settings: {"run": {"ops": {"stats": {"workers": 2}}}})`,
          );
        } else if (key === section) {
          opSectionsRead.set(cmd, { path: config.path, ops: v });
        }
      }
    } else if (names.has(key)) {
      apply(key, value, key);
    } else if (![...(cmd.parent?.commands ?? [])].some((c) => c.options.some((o) => o.long && o.name() === key))) {
      apply(key, value, key); // unknown to every command: report it
    }
  }
}

export interface Resolved {
  option: string;
  value: unknown;
  source: string;
}

/** Every option's value and where it came from, for `bigproc config`. */
export function describeSources(cmd: Command, config: ConfigFile | null): Resolved[] {
  const opts = cmd.opts();
  const opSection = opSectionsOf(cmd)?.ops[String(opts.op)];
  const fromFile = (name: string) =>
    opSection?.[name] !== undefined ? `config ${config?.path} (run.ops.${String(opts.op)})` : `config ${config?.path}`;
  return cmd.options
    .filter((o) => o.long && o.name() !== 'config' && o.name() !== 'json')
    .map((o) => {
      const key = o.attributeName();
      const src = cmd.getOptionValueSource(key);
      const source =
        src === 'cli'
          ? 'flag'
          : src === 'env'
            ? `env ${o.envVar}`
            : src === 'config'
              ? fromFile(o.name())
              : src === 'default'
                ? 'default'
                : src === 'implied'
                  ? 'implied'
                  : 'unset';
      return { option: `--${o.name()}`, value: opts[key] ?? null, source };
    });
}
