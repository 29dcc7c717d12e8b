// `bigproc merge part*.json`: combine the partials printed by static shards (--shard-index I
// --shard-count N) in part order — the same merge a single-host run does, so the same result.
import { readSmallFile } from '../config/small-file.js';

/** A part holds one partial result: big for groupby with many keys or a kernel's chunk states. */
const PART_LIMIT = 1 << 30;
import type { Command } from 'commander';
import type { RunDescriptor } from '../manifest/types.js';
import { decodePartial } from '../cluster/partial-codec.js';
import { foldShards, keepsChunks } from '../cluster/chunk-partials.js';
import type { PART_KIND, PART_VERSION } from '../cluster/static-part.js';
import { getOp } from '../ops/registry.js';
import { usage } from '../errors.js';

interface PartDoc {
  kind: typeof PART_KIND;
  version: typeof PART_VERSION;
  op: string;
  file: string;
  part: {
    index: number;
    count: number;
    first_chunk: number;
    chunks: number;
    records: number;
    bytes: number;
    trailing_bytes?: number;
  };
  descriptor: RunDescriptor;
  partial: unknown;
}

function readPart(path: string, kind: typeof PART_KIND, version: typeof PART_VERSION): PartDoc {
  const text = readSmallFile(path, 'bigproc merge', PART_LIMIT);
  let doc: PartDoc;
  try {
    doc = JSON.parse(text) as PartDoc;
  } catch {
    throw usage(
      `Expected the JSON printed by bigproc run --shard-index for ${JSON.stringify(path)} but it is not JSON`,
    );
  }
  if (doc?.kind !== kind || doc.version !== version || !doc.part || !doc.descriptor) {
    throw usage(
      `Expected the JSON printed by bigproc run --shard-index for ${JSON.stringify(path)} but received a document without "kind": "bigproc-partial"`,
    );
  }
  return doc;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description(
      'combine the partial results of static shards (bigproc run --shard-index I --shard-count N) into the final result',
    )
    .argument('<parts...>', 'the JSON files the parts printed')
    .option('--json', 'print one JSON document')
    .action(async (paths: string[], flags: { json?: boolean }) => {
      // Loaded here: they bring node:crypto, which every other command would load at start-up for nothing.
      const { checkSameRun } = await import('../manifest/identity.js');
      const { PART_KIND: kind, PART_VERSION: version } = await import('../cluster/static-part.js');
      const docs = paths.map((p) => ({ path: p, doc: readPart(p, kind, version) }));
      const first = docs[0]!.doc;
      const count = first.part.count;
      const byIndex = new Map<number, PartDoc>();
      for (const { path, doc } of docs) {
        if (doc.part.count !== count)
          throw usage(`${path} is part ${doc.part.index} of ${doc.part.count}, but ${paths[0]} is part of ${count}`);
        // parts are compared with the first part, not with a manifest: there is none
        checkSameRun(first.descriptor, doc.descriptor, {
          subject: `${JSON.stringify(path)} was printed`,
          there: `in ${JSON.stringify(paths[0])}`,
          here: `in ${JSON.stringify(path)}`,
        });
        if (byIndex.has(doc.part.index)) throw usage(`part ${doc.part.index} of ${count} is given twice (${path})`);
        byIndex.set(doc.part.index, doc);
      }
      const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
      if (missing.length)
        throw usage(
          `missing part${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} of ${count}`,
        );
      const op = getOp(first.op);
      const spec = decodePartial(first.descriptor.spec);
      const parts = [...Array(count).keys()].map((i) => byIndex.get(i)!);
      // Parts of an op that folds every chunk hand over their chunks' partials (see cluster/chunk-partials.ts):
      // a part holding anything else (an edited file) cannot give the single-host result.
      const merged = keepsChunks(op, spec)
        ? docs.find((d) => !Array.isArray((d.doc.partial as { chunk_partials?: unknown } | null)?.chunk_partials))
        : undefined;
      if (merged)
        throw usage(
          `${merged.path} holds a merged partial where parts of --op ${op.name} hand over their chunks' partials: it was not printed by bigproc run --shard-index; run that part again`,
        );
      const records = parts.reduce((n, d) => n + d.part.records, 0);
      const bytes = parts.reduce((n, d) => n + d.part.bytes, 0);
      // a user kernel's merge() and finalize() run in its host thread, which imports the module
      const result = (await foldShards(
        op,
        spec,
        parts.map((d) => decodePartial(JSON.stringify(d.partial))),
      )) as Record<string, unknown>;
      // as a single run reports them (--allow-partial): the bytes after the file's last whole record
      const trailing = first.part.trailing_bytes;
      if (trailing && result !== null && typeof result === 'object') result.trailing_bytes = trailing;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ op: op.name, file: first.file, layout: first.descriptor.layout, result, parts: count, records, bytes })}\n`,
        );
      } else {
        process.stdout.write(`${op.format(spec, result)}\n`);
      }
    });
}
