// `--kernel ./my-kernel.mjs`: the user's own op, an ES module exporting init(), chunk(view, state),
// merge(a, b) and finalize(state). No user code runs in the main thread: chunk workers import the
// module for chunk(), and the kernel host thread (engine/kernel-host.ts) imports it for init, merge
// and finalize — so Ctrl-C is served whatever the module does. States cross threads by structured
// cloning (numbers, bigints, strings, arrays, plain objects, typed arrays, Map, Set, Date).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Layout } from '../layout/types.js';
import type { OpDef } from './types.js';
import { usage } from '../errors.js';
import { RecordView, type ViewField } from './lib/record-view.js';
import { callKernel, cloneableError, loadKernel, loadedKernel, type KernelRef } from './lib/kernel-module.js';
import { hostFold, loadInHost } from '../engine/kernel-host.js';

export interface KernelSpec extends KernelRef {
  fields: ViewField[];
  bigEndian: boolean;
  /** the module exports `associative = true`: its merge may group chunks any way (see foldsEveryChunk) */
  associative?: boolean;
}

/** Not called: a kernel folds in its host thread (openFold). Here so a missed call site fails loudly. */
function notHere(what: string): never {
  throw new Error(`internal: a user kernel's ${what} runs in its host thread, not in the main thread`);
}

export const kernel: OpDef<KernelSpec, unknown, unknown> = {
  name: 'kernel',
  summary: 'your own op: --kernel ./my-kernel.mjs exporting init, chunk(view, state), merge, finalize',
  flags: [
    {
      flags: '--kernel <module>',
      description: 'kernel: an ES module with init(), chunk(view, state), merge(a, b), finalize(state)',
    },
  ],
  jsOnly: true,
  // A user's merge is not known to be associative (most add floats): multi-host runs fold every
  // chunk, unless the module says its merge is (`export const associative = true`): then a shard
  // hands over one merged state instead of one per chunk.
  foldsEveryChunk: (spec) => !spec.associative,
  async prepare(options, layout: Layout) {
    if (!options.kernel) throw usage('--op kernel needs --kernel ./my-kernel.mjs');
    const path = resolve(String(options.kernel));
    if (!existsSync(path))
      throw usage(
        `Expected an ES module file for --kernel but received ${JSON.stringify(String(options.kernel))} (not found)`,
      );
    const spec: KernelSpec = {
      url: pathToFileURL(path).href,
      label: String(options.kernel),
      fields: layout.fields.map((f) => ({ name: f.name, type: f.type, offset: f.offset, size: f.size })),
      bigEndian: layout.bigEndian,
    };
    // Fail early for a module that does not load: in the host thread, where its top level may spin.
    const { associative } = await loadInHost(spec);
    if (associative) spec.associative = true;
    return spec;
  },
  load: async (spec) => {
    await loadKernel(spec);
  },
  openFold: (spec) => hostFold({ url: spec.url, label: spec.label }),
  init: () => notHere('init()'),
  js(spec, chunk) {
    const m = loadedKernel(spec);
    const view = new RecordView(chunk.bytes, chunk.records, chunk.recordSize, spec.fields, spec.bigEndian);
    const state = callKernel(spec, 'init()', () => m.init());
    const partial = callKernel(spec, 'chunk()', () => m.chunk(view, state)) ?? state;
    // checked here, where the export is known: a failed clone on the way out has no message
    const bad = cloneableError(spec, 'chunk()', partial);
    if (bad) throw bad;
    return { partial };
  },
  native() {
    throw new Error('internal: kernel ops run in JS');
  },
  merge: () => notHere('merge()'),
  finalize: () => notHere('finalize()'),
  format(_spec, r) {
    return JSON.stringify(r, null, 2);
  },
};
