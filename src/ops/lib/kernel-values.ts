// What a user kernel's values may be, and how its result is printed.
// States cross threads by structured cloning: a value that cannot be cloned (a function, a Symbol, a
// Promise…) is found and named, with its path, before a thread hop fails with an opaque "could not be
// cloned" (or a worker dies with no message at all). Results are printed as JSON with the encoding the
// rest of bigproc uses for what JSON lacks: NaN and ±Infinity as the strings "NaN", "Infinity",
// "-Infinity"; bigints as decimal strings; a Map as an array of [key, value] pairs; a Set and a typed
// array as arrays; anything with toJSON() (a Date: its ISO string) as what toJSON returns.
import { types } from 'node:util';

export const STATE_KINDS =
  'states must be numbers, bigints, strings, booleans, arrays, plain objects, typed arrays, Map, Set or Date';

export interface Found {
  /** where in the value, e.g. ".a.b[3]"; '' for the value itself */
  path: string;
  /** e.g. "a function" */
  kind: string;
}

/** The kind of a value that structured cloning refuses, or null. */
export function unclonableKind(v: unknown): string | null {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a Symbol';
  if (v === null || typeof v !== 'object') return null;
  if (types.isProxy(v)) return 'a Proxy';
  if (types.isPromise(v)) return 'a Promise';
  if (types.isGeneratorObject(v)) return 'a generator';
  if (types.isWeakMap(v)) return 'a WeakMap';
  if (types.isWeakSet(v)) return 'a WeakSet';
  if (v instanceof WeakRef) return 'a WeakRef';
  if (v instanceof FinalizationRegistry) return 'a FinalizationRegistry';
  const tag = Object.prototype.toString.call(v);
  if (tag.endsWith(' Iterator]')) return `an iterator (${tag.slice(8, -1)})`;
  return null;
}

const isLeaf = (v: unknown): boolean =>
  v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

/** The children of a container worth visiting (not primitives), with the path step to each. */
function children(v: object): [unknown, string][] {
  if (ArrayBuffer.isView(v) || types.isAnyArrayBuffer(v) || v instanceof Date || v instanceof RegExp) return [];
  const out: [unknown, string][] = [];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isLeaf(v[i])) out.push([v[i], `[${i}]`]);
  } else if (v instanceof Map) {
    let i = 0;
    for (const [k, x] of v) {
      if (!isLeaf(k)) out.push([k, `.keys()[${i}]`]);
      if (!isLeaf(x)) out.push([x, `.get(${pathKey(k)})`]);
      i++;
    }
  } else if (v instanceof Set) {
    let i = 0;
    for (const x of v) {
      if (!isLeaf(x)) out.push([x, `.values()[${i}]`]);
      i++;
    }
  } else {
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (!isLeaf(x)) out.push([x, step(k)]);
    }
  }
  return out;
}

function pathKey(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : typeof k === 'bigint' ? `${k}n` : isLeaf(k) ? String(k) : '…';
}

function step(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * The first part of `root` that cannot be structured-cloned, or null. Iterative (a deep list does not
 * overflow the stack) and visits each object once (a circular state is fine to clone).
 */
export function findUnclonable(root: unknown): Found | null {
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    const kind = unclonableKind(v);
    if (kind) return { path, kind };
    if (isLeaf(v) || seen.has(v as object)) continue;
    seen.add(v as object);
    const kids = children(v as object);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]![0], path + kids[i]![1]]);
  }
  return null;
}

/** "returned a function" / "returned a state holding a function at .a.b" */
export function describeFound(f: Found, noun: string): string {
  return f.path === '' ? `returned ${f.kind}` : `returned a ${noun} holding ${f.kind} at ${f.path}`;
}

/** A value that cannot be printed as JSON: what it is and where. */
export class ResultError extends Error {}

function number(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * `v` as plain JSON data, with the encoding above. Throws ResultError naming the path of what cannot
 * be printed (a function, a Symbol, a Promise…) or of a reference back to an enclosing object.
 */
export function toResultJson(v: unknown, path = '', ancestors = new Map<object, string>()): unknown {
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return number(v);
    case 'string':
    case 'boolean':
    case 'undefined':
      return v;
    case 'function':
    case 'symbol':
      throw new ResultError(
        `${describeFound({ path, kind: unclonableKind(v)! }, 'result')}, which cannot be printed as JSON`,
      );
  }
  if (v === null) return null;
  const obj = v as object;
  const kind = unclonableKind(obj);
  if (kind) throw new ResultError(`${describeFound({ path, kind }, 'result')}, which cannot be printed as JSON`);
  const up = ancestors.get(obj);
  if (up !== undefined) {
    throw new ResultError(
      `returned a circular result: ${path} refers back to ${up === '' ? 'the result itself' : up} (results are printed as JSON, which has no references)`,
    );
  }
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function')
    return toResultJson((obj as { toJSON(): unknown }).toJSON(), path, ancestors);
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean)
    return toResultJson(obj.valueOf(), path, ancestors);
  ancestors.set(obj, path);
  try {
    return containerJson(obj, path, ancestors);
  } finally {
    ancestors.delete(obj);
  }
}

function containerJson(obj: object, path: string, ancestors: Map<object, string>): unknown {
  const at = (x: unknown, s: string) => toResultJson(x, path + s, ancestors);
  // As JSON.stringify does: undefined in an array is null, in an object the key is left out.
  const item = (x: unknown, s: string) => at(x, s) ?? null;
  if (Array.isArray(obj)) return obj.map((x, i) => item(x, `[${i}]`));
  if (types.isAnyArrayBuffer(obj)) return Array.from(new Uint8Array(obj));
  if (obj instanceof DataView) return Array.from(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
  if (ArrayBuffer.isView(obj))
    return Array.from(obj as unknown as ArrayLike<number | bigint>, (x, i) => item(x, `[${i}]`));
  if (obj instanceof Map)
    return [...obj].map(([k, x], i) => [item(k, `.keys()[${i}]`), item(x, `.get(${pathKey(k)})`)]);
  if (obj instanceof Set) return [...obj].map((x, i) => item(x, `.values()[${i}]`));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const x = at((obj as Record<string, unknown>)[k], step(k));
    // defineProperty, not assignment: a key named "__proto__" stays a key
    if (x !== undefined)
      Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
