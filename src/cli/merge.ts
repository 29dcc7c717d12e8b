// `bigproc merge part*.json`: combine the partials printed by static shards (--shard-index I
// --shard-count N) in part order — the same merge a single-host run does, so the same result.
import { readSmallFile } from '../config/small-file.js';

/** A part holds one partial result: big for groupby with many keys or a kernel's chunk states. */
const PART_LIMIT = 1 << 30;
import type { Command } from 'commander';
import type { RunDescriptor } from '../manifest/types.js';
import { checkSameRun } from '../manifest/identity.js';
import { decodePartial } from '../engine/partial-codec.js';
import { foldShards, partialFormat } from '../engine/chunk-partials.js';
import { getOp } from '../ops/registry.js';
import { usage } from '../errors.js';

interface PartDoc {
  kind: 'bigproc-partial';
  version: number;
  op: string;
  file: string;
  part: { index: number; count: number; first_chunk: number; chunks: number; records: number; bytes: number; trailing_bytes?: number };
  descriptor: RunDescriptor;
  partial: unknown;
}

function readPart(path: string): PartDoc {
  const text = readSmallFile(path, 'bigproc merge', PART_LIMIT);
  let doc: PartDoc;
  try {
    doc = JSON.parse(text) as PartDoc;
  } catch {
    throw usage(`Expected the JSON printed by bigproc run --shard-index for ${JSON.stringify(path)} but it is not JSON`);
  }
  if (doc?.kind !== 'bigproc-partial' || (doc.version !== 1 && doc.version !== 2) || !doc.part || !doc.descriptor) {
    throw usage(`Expected the JSON printed by bigproc run --shard-index for ${JSON.stringify(path)} but received a document without "kind": "bigproc-partial"`);
  }
  return doc;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the partial results of static shards (bigproc run --shard-index I --shard-count N) into the final result')
    .argument('<parts...>', 'the JSON files the parts printed')
    .option('--json', 'print one JSON document')
    .action(async (paths: string[], flags: { json?: boolean }) => {
      const docs = paths.map((p) => ({ path: p, doc: readPart(p) }));
      const first = docs[0]!.doc;
      const count = first.part.count;
      const byIndex = new Map<number, PartDoc>();
      // Parts printed by bigprocs that hand over partials differently (see engine/chunk-partials.ts)
      // cannot be merged into the single-host result, whatever else they share.
      const mixed = docs.find((d) => d.doc.version !== first.version);
      if (mixed) throw usage(`${mixed.path} holds a partial of format ${mixed.doc.version}, ${paths[0]} one of format ${first.version}: they were printed by different bigproc versions; run the parts again with one`);
      for (const { path, doc } of docs) {
        if (doc.part.count !== count) throw usage(`${path} is part ${doc.part.index} of ${doc.part.count}, but ${paths[0]} is part of ${count}`);
        // parts are compared with the first part, not with a manifest: there is none
        checkSameRun(first.descriptor, doc.descriptor, {
          subject: `${JSON.stringify(path)} was printed`, there: `in ${JSON.stringify(paths[0])}`, here: `in ${JSON.stringify(path)}`, advice: 'run the parts again with one bigproc',
        });
        if (byIndex.has(doc.part.index)) throw usage(`part ${doc.part.index} of ${count} is given twice (${path})`);
        byIndex.set(doc.part.index, doc);
      }
      const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
      if (missing.length) throw usage(`missing part${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} of ${count}`);
      const op = getOp(first.op);
      const spec = decodePartial(first.descriptor.spec);
      // Parts of an op that folds every chunk hand over their chunks' partials (format 2); parts an
      // older bigproc printed for it hold merged ones, which cannot give the single-host result.
      const format = partialFormat(op, spec);
      if (first.version !== format) throw usage(`${paths[0]} was printed by a bigproc whose parts of --op ${op.name} merge differently (part format ${first.version}, here ${format}): run the parts again with this version`);
      const parts = [...Array(count).keys()].map((i) => byIndex.get(i)!);
      const records = parts.reduce((n, d) => n + d.part.records, 0);
      const bytes = parts.reduce((n, d) => n + d.part.bytes, 0);
      // a user kernel's merge() and finalize() run in its host thread, which imports the module
      const result = (await foldShards(op, spec, parts.map((d) => decodePartial(JSON.stringify(d.partial))))) as Record<string, unknown>;
      // as a single run reports them (--allow-partial): the bytes after the file's last whole record
      const trailing = first.part.trailing_bytes;
      if (trailing && result !== null && typeof result === 'object') result.trailing_bytes = trailing;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ op: op.name, file: first.file, layout: first.descriptor.layout, result, parts: count, records, bytes })}\n`);
      } else {
        process.stdout.write(`${op.format(spec, result)}\n`);
      }
    });
}
