// `--pipeline pipeline.json`: several ops ("sinks"), each with its own options and an optional `where`,
// computed in one pass: every chunk is read once and handed to each sink in turn (a sink with a
// `where` gets the chunk's matching records). The result holds one result per sink, keyed by name.
import { readSmallFile } from '../config/small-file.js';
import * as z from 'zod/mini';
import type { Layout } from '../layout/types.js';
import type { AnyOp, ChunkInput, NativeChunkInput, OpDef } from './types.js';
import type { Instr } from './lib/predicate.js';
import { compileWhere } from './lib/where.js';
import { type FilterKernel, filter } from './filter.js';
import { usage } from '../errors.js';
import { Control } from '../engine/control.js';
import { sinkOptions } from './lib/sink-options.js';

export interface SinkSpec {
  name: string;
  op: string;
  spec: unknown;
  where?: { text: string; program: Instr[] };
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

export const pipeline: OpDef<PipelineSpec, unknown[], Record<string, unknown>, FilterKernel> = {
  name: 'pipeline',
  summary: 'several ops in one pass: --pipeline pipeline.json with {"sinks":[{"name","op","options","where"}]}',
  flags: [{ flags: '--pipeline <file.json>', description: 'pipeline: sinks computed in one pass over the file' }],
  async prepare(options, layout: Layout, prePass) {
    if (!options.pipeline) throw usage('--op pipeline needs --pipeline pipeline.json');
    const path = String(options.pipeline);
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
        `--pipeline ${JSON.stringify(path)}: ${where}: ${what} (expected {"sinks": [{"name", "op", "options"?, "where"?}]})`,
      );
    }
    const names = new Set<string>();
    const sinks: SinkSpec[] = [];
    for (const s of parsed.data.sinks) {
      if (names.has(s.name))
        throw usage(`--pipeline ${JSON.stringify(path)}: two sinks are named ${JSON.stringify(s.name)}`);
      names.add(s.name);
      const op = lookup(s.op);
      if (op.name === 'pipeline' || op.jsOnly) {
        throw usage(`--pipeline sink ${JSON.stringify(s.name)}: op ${s.op} cannot run inside a pipeline`);
      }
      const options = sinkOptions(op, s.name, s.options);
      // Record numbers of a where-subset would not be file positions: ops that report them refuse.
      if (s.where && op.reportsRecordNumbers) {
        throw usage(
          `--pipeline sink ${JSON.stringify(s.name)}: ${op.name} reports record numbers, which a where-subset does not have; drop the where or run it alone`,
        );
      }
      const where = s.where ? { text: s.where, program: compileWhere(s.where, layout) } : undefined;
      // Pre-passes see the whole file, not the sink's `where` subset: refuse rather than mislead.
      const spec = await op.prepare(
        options,
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
      sinks.push({ name: s.name, op: op.name, spec, where });
    }
    return { sinks };
  },
  init(spec) {
    return spec.sinks.map((s) => lookup(s.op).init(s.spec));
  },
  js(spec, chunk) {
    return { partial: spec.sinks.map((s) => lookup(s.op).js(s.spec, jsInput(s, chunk), false).partial) };
  },
  native(spec, c) {
    const parts: unknown[] = [];
    for (const [i, s] of spec.sinks.entries()) {
      const r = lookup(s.op).native(s.spec, nativeInput(s, c, i === 0), false);
      if (r === null) return null;
      parts.push(r.partial);
    }
    return { partial: parts };
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
