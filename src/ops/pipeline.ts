// `--pipeline pipeline.json`: several ops ("sinks"), each with its own options and an optional `where`,
// computed in one pass: every chunk is read once and handed to each sink in turn (a sink with a
// `where` gets the chunk's matching records). The result holds one result per sink, keyed by name.
import { readSmallFile } from '../config/small-file.js';
import * as z from 'zod/mini';
import type { Layout } from '../layout/types.js';
import type { AnyOp, ChunkInput, NativeChunkInput, OpDef, OpOptions } from './types.js';
import type { Instr } from './lib/predicate.js';
import { compileWhere } from './lib/where.js';
import { type FilterKernel, filter } from './filter.js';
import { usage } from '../errors.js';
import { Control } from '../engine/control.js';
import { sinkOptions } from './lib/sink-options.js';
import { packOutputs, SinkOutputs } from './lib/sink-outputs.js';
import { readFileId, resolveOutTarget, type OutTarget } from '../engine/out-target.js';
import { openOutTarget, type OutputTarget } from '../engine/output.js';
import { resolve } from 'node:path';

export interface SinkSpec {
  name: string;
  op: string;
  spec: unknown;
  where?: { text: string; program: Instr[] };
  /** the sink's own output ("out"), decided before any work */
  out?: { path: string; target: OutTarget };
}

export interface PipelineSpec {
  sinks: SinkSpec[];
}

// Strict: a misspelt key is an error, not a setting silently dropped. The options are checked
// against the sink's op in sinkOptions (zod's record would drop a "__proto__" key unseen).
const sinkSchema = z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/)),
  op: z.string(),
  where: z.optional(z.string()),
  options: z.optional(z.unknown()),
  out: z.optional(z.string()),
});
const fileSchema = z.strictObject({ sinks: z.array(sinkSchema).check(z.minLength(1)) });

// The registry imports this file, so ops are looked up lazily through a setter to avoid a cycle.
let lookup: (name: string) => AnyOp = () => {
  throw new Error('internal: pipeline registry not set');
};
export function setPipelineRegistry(f: (name: string) => AnyOp): void {
  lookup = f;
}

/** The sink's records: all of the chunk, or (with `where`) its matching records, copied out. */
function jsInput(s: SinkSpec, chunk: ChunkInput): ChunkInput {
  if (!s.where) return chunk;
  const out = filter.js({ where: s.where.text, program: s.where.program }, chunk, true).output!;
  return {
    bytes: new DataView(out.buffer, out.byteOffset, out.byteLength),
    records: out.byteLength / chunk.recordSize,
    recordSize: chunk.recordSize,
  };
}

function nativeInput(s: SinkSpec, c: NativeChunkInput<FilterKernel>, first: boolean): NativeChunkInput<FilterKernel> {
  // Only the first sink reports progress and sees the cancel flag's effect on the shared counter; the
  // others run on a private control block so the bar counts each byte once.
  const ctl = first ? c.ctl : new Control().sab;
  if (!s.where) return { ...c, ctl };
  const r = c.addon.filter(c.mapping, c.byteOffset, c.records, c.recordSize, s.where.program, true, ctl);
  const out = r?.out ?? new Uint8Array(0);
  return { ...c, mapping: out, byteOffset: 0, records: out.byteLength / c.recordSize, ctl: new Control().sab };
}

/**
 * A sink's "out": checked like --out before any work (never a file the run reads; a directory only for
 * an op that fills one), for ops that write records, on one host.
 */
function sinkOut(
  s: { name: string; out?: string },
  op: AnyOp,
  options: OpOptions,
  runOptions: OpOptions,
): SinkSpec['out'] {
  if (s.out === undefined) return undefined;
  const sink = `--pipeline sink ${JSON.stringify(s.name)}`;
  if (!op.writesRecords) throw usage(`${sink}: op ${op.name} writes no records, so it takes no "out"`);
  if (runOptions.manifest !== undefined || runOptions.shardIndex !== undefined)
    throw usage(`${sink}: a sink's "out" is written by a run on one host, not one shared between hosts`);
  const reads = [
    readFileId('--file', String(runOptions.file ?? '')),
    readFileId('--pipeline', String(runOptions.pipeline ?? '')),
  ];
  const target = resolveOutTarget(s.out, {
    directory: !!op.writesDirectory?.(options),
    reads: reads.filter((r) => r !== null),
  });
  if (target.kind === 'fd')
    throw usage(
      `${sink}: "out" ${JSON.stringify(s.out)} is a descriptor: the pipeline's result owns stdout; give a path`,
    );
  return { path: s.out, target };
}

/** The options a sink's op is prepared with: an image chain's text is its op; "out" is its --out. */
function prepareOptions(op: AnyOp, s: { op: string; out?: string }, options: OpOptions): OpOptions {
  return {
    ...options,
    ...(op.name === 'image' ? { op: s.op } : {}),
    ...(s.out !== undefined ? { out: s.out } : {}),
  };
}

/** The pipeline file, parsed and checked against its schema (every mistake one usage error). */
function readPipelineFile(path: string): z.infer<typeof fileSchema> {
  const text = readSmallFile(path, '--pipeline');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw usage(
      `--pipeline ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where =
      issue.path
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
        .join('')
        .replace(/^\./, '') || 'the file';
    const what =
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.message;
    throw usage(
      `--pipeline ${JSON.stringify(path)}: ${where}: ${what} (expected {"sinks": [{"name", "op", "options"?, "where"?, "out"?}]})`,
    );
  }
  return parsed.data;
}

export const pipeline: OpDef<PipelineSpec, unknown[], Record<string, unknown>, FilterKernel> = {
  name: 'pipeline',
  summary: 'several ops in one pass: --pipeline pipeline.json with {"sinks":[{"name","op","options","where","out"}]}',
  flags: [{ flags: '--pipeline <file.json>', description: 'pipeline: sinks computed in one pass over the file' }],
  async prepare(options, layout: Layout, prePass) {
    if (!options.pipeline) throw usage('--op pipeline needs --pipeline pipeline.json');
    const path = String(options.pipeline);
    const file = readPipelineFile(path);
    const names = new Set<string>();
    const outs = new Set<string>();
    const sinks: SinkSpec[] = [];
    for (const s of file.sinks) {
      if (names.has(s.name))
        throw usage(`--pipeline ${JSON.stringify(path)}: two sinks are named ${JSON.stringify(s.name)}`);
      names.add(s.name);
      const op = lookup(s.op);
      if (op.name === 'pipeline' || op.jsOnly) {
        throw usage(`--pipeline sink ${JSON.stringify(s.name)}: op ${s.op} cannot run inside a pipeline`);
      }
      const opts = prepareOptions(op, s, sinkOptions(op, s.name, s.options));
      const out = sinkOut(s, op, opts, options);
      if (out && outs.has(resolve(out.path)))
        throw usage(`--pipeline ${JSON.stringify(path)}: two sinks write "out" ${JSON.stringify(out.path)}`);
      if (out) outs.add(resolve(out.path));
      if (s.where && opts.every !== undefined)
        throw usage(
          `--pipeline sink ${JSON.stringify(s.name)}: --every counts frames of the file, which a where-subset does not have`,
        );
      // Record numbers of a where-subset would not be file positions: ops that report them refuse.
      if (s.where && op.reportsRecordNumbers) {
        throw usage(
          `--pipeline sink ${JSON.stringify(s.name)}: ${op.name} reports record numbers, which a where-subset does not have; drop the where or run it alone`,
        );
      }
      const where = s.where ? { text: s.where, program: compileWhere(s.where, layout) } : undefined;
      // Pre-passes see the whole file, not the sink's `where` subset: refuse rather than mislead.
      const spec = await op.prepare(
        opts,
        layout,
        where
          ? () =>
              Promise.reject(
                usage(
                  `--pipeline sink ${JSON.stringify(s.name)}: with a where, give every option explicitly (e.g. --range for hist)`,
                ),
              )
          : prePass,
      );
      // an image chain keeps its text (lookup finds the image op by it) so results name the chain
      sinks.push({ name: s.name, op: op.name === 'image' ? s.op : op.name, spec, where, ...(out ? { out } : {}) });
    }
    return { sinks };
  },
  init(spec) {
    return spec.sinks.map((s) => lookup(s.op).init(s.spec));
  },
  ownOutput(spec) {
    const writers = spec.sinks.filter((s) => s.out);
    if (writers.length === 0) return undefined;
    const targets: OutputTarget[] = [];
    try {
      for (const s of writers) {
        const op = lookup(s.op);
        const t = s.out!.target;
        targets.push(op.openOutput?.(s.spec, t.kind === 'directory' ? t.path : s.out!.path) ?? openOutTarget(t));
      }
    } catch (e) {
      for (const t of targets) t.abort();
      throw e;
    }
    return new SinkOutputs(targets);
  },
  outputBytesPerRecord(spec, recordSize) {
    const writers = spec.sinks.filter((s) => s.out);
    return writers.reduce((sum, s) => sum + (lookup(s.op).outputBytesPerRecord?.(s.spec, recordSize) ?? recordSize), 0);
  },
  js(spec, chunk, wantOutput) {
    const partial: unknown[] = [];
    const outputs: Uint8Array[] = [];
    for (const s of spec.sinks) {
      const r = lookup(s.op).js(s.spec, jsInput(s, chunk), wantOutput && s.out !== undefined);
      partial.push(r.partial);
      if (wantOutput && s.out) outputs.push(r.output ?? new Uint8Array(0));
    }
    return { partial, ...(wantOutput ? { output: packOutputs(outputs) } : {}) };
  },
  native(spec, c, wantOutput) {
    const parts: unknown[] = [];
    const outputs: Uint8Array[] = [];
    for (const [i, s] of spec.sinks.entries()) {
      const r = lookup(s.op).native(s.spec, nativeInput(s, c, i === 0), wantOutput && s.out !== undefined);
      if (r === null) return null;
      parts.push(r.partial);
      if (wantOutput && s.out) outputs.push(r.output ?? new Uint8Array(0));
    }
    return { partial: parts, ...(wantOutput ? { output: packOutputs(outputs) } : {}) };
  },
  merge(spec, a, b) {
    return spec.sinks.map((s, i) => lookup(s.op).merge(s.spec, a[i], b[i]));
  },
  finalize(spec, p) {
    return Object.fromEntries(spec.sinks.map((s, i) => [s.name, lookup(s.op).finalize(s.spec, p[i])]));
  },
  format(spec, r) {
    return spec.sinks
      .map(
        (s) =>
          `== ${s.name} (${s.op}${s.where ? ` where ${s.where.text}` : ''})\n${lookup(s.op).format(s.spec, r[s.name])}`,
      )
      .join('\n\n');
  },
};
