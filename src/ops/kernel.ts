// `--kernel ./my-kernel.mjs`: the user's own op, an ES module loaded in every worker (and in the main
// thread for merge/finalize). It exports init(), chunk(view, state), merge(a, b) and finalize(state);
// state must survive structured cloning (numbers, bigints, arrays, plain objects, typed arrays).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Layout } from '../layout/types.js';
import type { OpDef } from './types.js';
import { BigprocError, EXIT, usage } from '../errors.js';
import { RecordView, type ViewField } from './record-view.js';
import { importEsm } from '../esm-import.js';

export interface KernelSpec {
  url: string;
  label: string;
  fields: ViewField[];
  bigEndian: boolean;
  /** the module exports `associative = true`: its merge may group chunks any way (see foldsEveryChunk) */
  associative?: boolean;
}

interface KernelModule {
  associative?: unknown;
  init(): unknown;
  chunk(view: RecordView, state: unknown): unknown;
  merge(a: unknown, b: unknown): unknown;
  finalize(state: unknown): unknown;
}

const modules = new Map<string, KernelModule>();

/** The first stack frame in the user's file, e.g. "my-kernel.mjs:12:7", so errors point at their line. */
function whereInKernel(e: unknown, url: string): string {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const line = stack.split('\n').find((l) => l.includes(url));
  const m = line && /(file:\/\/[^\s)]+):(\d+):(\d+)/.exec(line);
  return m ? ` (at ${decodeURIComponent(m[1]!.replace('file://', ''))}:${m[2]}:${m[3]})` : '';
}

function kernelError(spec: { url: string; label: string }, what: string, e: unknown): BigprocError {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new BigprocError(`--kernel ${spec.label}: ${what} threw ${msg}${whereInKernel(e, spec.url)}`, EXIT.runtime);
}

async function load(spec: { url: string; label: string }): Promise<KernelModule> {
  let m = modules.get(spec.url);
  if (m) return m;
  let mod: Record<string, unknown>;
  try {
    mod = (await importEsm(spec.url)) as Record<string, unknown>;
  } catch (e) {
    // A syntax error's position is in its stack's first line ("file:///…/k.mjs:3").
    const first = e instanceof Error ? (e.stack ?? '').split('\n')[0] : '';
    const at = first && first.startsWith('file://') ? ` (at ${decodeURIComponent(first.replace('file://', ''))})` : '';
    throw new BigprocError(`--kernel ${spec.label}: cannot load the module: ${(e as Error).message}${at}`, EXIT.usage);
  }
  for (const name of ['init', 'chunk', 'merge', 'finalize']) {
    if (typeof mod[name] !== 'function') throw usage(`--kernel ${spec.label} must export a function ${name}() (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  }
  m = mod as unknown as KernelModule;
  modules.set(spec.url, m);
  return m;
}

function call<T>(spec: KernelSpec, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw kernelError(spec, what, e);
  }
}

/** bigints become decimal strings so the result can be printed as JSON. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export const kernel: OpDef<KernelSpec, unknown, unknown> = {
  name: 'kernel',
  summary: 'your own op: --kernel ./my-kernel.mjs exporting init, chunk(view, state), merge, finalize',
  flags: [{ flags: '--kernel <module>', description: 'kernel: an ES module with init(), chunk(view, state), merge(a, b), finalize(state)' }],
  jsOnly: true,
  // A user's merge is not known to be associative (most add floats): multi-host runs fold every
  // chunk, unless the module says its merge is (`export const associative = true`): then a shard
  // hands over one merged state instead of one per chunk.
  foldsEveryChunk: (spec) => !spec.associative,
  async prepare(options, layout: Layout) {
    if (!options.kernel) throw usage('--op kernel needs --kernel ./my-kernel.mjs');
    const path = resolve(String(options.kernel));
    if (!existsSync(path)) throw usage(`Expected an ES module file for --kernel but received ${JSON.stringify(String(options.kernel))} (not found)`);
    const spec: KernelSpec = {
      url: pathToFileURL(path).href,
      label: String(options.kernel),
      fields: layout.fields.map((f) => ({ name: f.name, type: f.type, offset: f.offset, size: f.size })),
      bigEndian: layout.bigEndian,
    };
    const m = await load(spec); // fail early, in the main thread, for a module that does not load
    if (m.associative === true) spec.associative = true;
    return spec;
  },
  load: async (spec) => {
    await load(spec);
  },
  init(spec) {
    const m = modules.get(spec.url)!;
    return call(spec, 'init()', () => m.init());
  },
  js(spec, chunk) {
    const m = modules.get(spec.url)!;
    const view = new RecordView(chunk.bytes, chunk.records, chunk.recordSize, spec.fields, spec.bigEndian);
    const state = call(spec, 'init()', () => m.init());
    return { partial: call(spec, 'chunk()', () => m.chunk(view, state)) ?? state };
  },
  native() {
    throw new Error('internal: kernel ops run in JS');
  },
  merge(spec, a, b) {
    const m = modules.get(spec.url)!;
    return call(spec, 'merge()', () => m.merge(a, b));
  },
  finalize(spec, p) {
    const m = modules.get(spec.url)!;
    const r = jsonSafe(call(spec, 'finalize()', () => m.finalize(p)));
    return r !== null && typeof r === 'object' && !Array.isArray(r) ? r : { value: r };
  },
  format(_spec, r) {
    return JSON.stringify(r, null, 2);
  },
};
