// A pipeline sink's "options" object, checked strictly against the flags its op declares: a key the
// op does not read (a typo such as "feilds", or "__proto__") is an error naming the valid keys, never
// an option silently ignored. A key may be the flag's long name ("max-groups") or the camelCase name
// the op reads ("maxGroups"); either way the op gets the camelCase one.
import { Option } from 'commander';
import type { AnyOp, OpOptions } from '../types.js';
import { dict } from '../../keys.js';
import { usage } from '../../errors.js';

type Scalar = string | number | boolean;

/** The op's flags by every key a sink may use for them. */
function flagsByKey(op: AnyOp): Map<string, Option> {
  const byKey = new Map<string, Option>();
  for (const f of op.flags ?? []) {
    const o = new Option(f.flags);
    byKey.set(o.name(), o);
    byKey.set(o.attributeName(), o);
  }
  return byKey;
}

function checkValue(sink: string, key: string, o: Option, value: unknown): Scalar {
  const takesValue = o.required || o.optional;
  if (takesValue ? typeof value === 'string' || typeof value === 'number' : typeof value === 'boolean')
    return value as Scalar;
  const want = takesValue ? 'a string or a number' : 'true or false';
  throw usage(
    `--pipeline sink ${JSON.stringify(sink)}: option ${JSON.stringify(key)} must be ${want}, not ${JSON.stringify(value)}`,
  );
}

export function sinkOptions(op: AnyOp, sink: string, raw: unknown): OpOptions {
  const out = dict<Scalar>();
  if (raw === undefined) return out;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw usage(
      `--pipeline sink ${JSON.stringify(sink)}: "options" must be an object of option names to values, not ${JSON.stringify(raw)}`,
    );
  }
  const byKey = flagsByKey(op);
  const valid = [...new Set([...byKey.values()].map((o) => o.name()))];
  for (const [key, value] of Object.entries(raw)) {
    const o = byKey.get(key);
    if (!o) {
      throw usage(
        `--pipeline sink ${JSON.stringify(sink)}: op ${op.name} has no option ${JSON.stringify(key)} (valid: ${valid.join(', ') || 'none'})`,
      );
    }
    if (Object.hasOwn(out, o.attributeName())) {
      throw usage(
        `--pipeline sink ${JSON.stringify(sink)}: option ${o.name()} is given twice (as ${JSON.stringify(o.name())} and ${JSON.stringify(o.attributeName())})`,
      );
    }
    out[o.attributeName()] = checkValue(sink, key, o, value);
  }
  return out;
}
