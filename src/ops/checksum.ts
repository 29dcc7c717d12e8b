// `checksum`: XXH64 (seed 0) or CRC32C of every chunk's bytes and of the whole data region.
//
// Whole digest: crc32c is the true CRC32C of the data region (chunk CRCs joined with crc32c_combine),
// so it does not depend on --chunk-size; xxh64 is XXH64 (seed 0) of the chunk digests written as
// 8-byte big-endian values, so it depends on the chunk size (reported as chunk_size). Neither depends
// on --workers. --verify FILE.json compares against an earlier report.
import { readSmallFile } from '../config/small-file.js';
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { crc32c, crc32cCombine, hex, xxh64 } from './lib/hash.js';
import { expected, runtime, usage } from '../errors.js';
import { parseSize } from '../config/units.js';

export type ChecksumAlgo = 'xxh64' | 'crc32c';
const ALGOS: ChecksumAlgo[] = ['xxh64', 'crc32c'];

export interface ChecksumSpec {
  algo: ChecksumAlgo;
  /** bytes per chunk (recordsPerChunk * recordSize) when --chunk-size is known, else null */
  chunkSize: number | null;
  recordSize: number;
  headerBytes: number;
  /** path of the saved report to compare against */
  verify: string | null;
}

export interface ChecksumPartial {
  /** per chunk, in chunk order */
  chunks: string[];
  bytes: number[];
}

/** native/checksum.cc: the digest of the span's bytes as lowercase hex (16 / 8 digits); null when cancelled. */
export interface ChecksumKernel {
  checksum(...args: [...KernelSpan, algo: ChecksumAlgo, ctl?: Ctl | null]): string | null;
}

export interface ChecksumResult {
  algo: ChecksumAlgo;
  digest: string;
  chunk_size: number;
  chunks: string[];
  verified?: true;
}

interface SavedReport {
  algo: ChecksumAlgo;
  chunk_size: number;
  chunks: string[];
}

function loadReport(path: string): SavedReport {
  const text = readSmallFile(path, '--verify');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw expected(
      '--verify',
      'a readable JSON checksum report (the --json output of --op checksum)',
      `${path} (${(e as Error).message})`,
    );
  }
  const o = doc as Record<string, unknown> | null;
  const r = (o && typeof o === 'object' && o.result && typeof o.result === 'object' ? o.result : o) as Record<
    string,
    unknown
  > | null;
  if (
    !r ||
    typeof r !== 'object' ||
    !ALGOS.includes(r.algo as ChecksumAlgo) ||
    typeof r.chunk_size !== 'number' ||
    !Array.isArray(r.chunks) ||
    !r.chunks.every((c) => typeof c === 'string')
  ) {
    throw expected(
      '--verify',
      'a checksum report with algo, chunk_size and chunks (the --json output of --op checksum)',
      path,
    );
  }
  return { algo: r.algo as ChecksumAlgo, chunk_size: r.chunk_size, chunks: r.chunks as string[] };
}

function checkChunkSize(saved: SavedReport, chunkSize: number, path: string): void {
  if (saved.chunk_size !== chunkSize) {
    throw usage(
      `--verify ${path} was made with chunks of ${saved.chunk_size} bytes, this run uses ${chunkSize}: pass --chunk-size ${saved.chunk_size}`,
    );
  }
}

function bigEndian8(digests: string[]): Uint8Array {
  const buf = new Uint8Array(digests.length * 8);
  const dv = new DataView(buf.buffer);
  digests.forEach((d, i) => {
    dv.setBigUint64(i * 8, BigInt(`0x${d}`), false);
  });
  return buf;
}

export const checksum: OpDef<ChecksumSpec, ChecksumPartial, ChecksumResult, ChecksumKernel> = {
  name: 'checksum',
  summary:
    'xxh64 (default) or crc32c digest of the data region and of each chunk; --verify FILE.json checks against a saved report',
  flags: [
    { flags: '--algo <name>', description: 'checksum: xxh64 (default) or crc32c' },
    { flags: '--verify <file>', description: 'checksum: compare with the --json report of an earlier checksum run' },
  ],
  prepare(options, layout) {
    const algo = String(options.algo ?? 'xxh64') as ChecksumAlgo;
    if (!ALGOS.includes(algo)) throw expected('--algo', 'one of xxh64, crc32c', options.algo);
    let chunkSize: number | null = null;
    if (options.chunkSize !== undefined) {
      const bytes = parseSize(options.chunkSize as string | number, '--chunk-size');
      chunkSize = Math.max(1, Math.floor(bytes / layout.recordSize)) * layout.recordSize;
    }
    const verify = options.verify === undefined ? null : String(options.verify);
    if (verify !== null) {
      const saved = loadReport(verify);
      if (saved.algo !== algo)
        throw usage(
          `--verify ${verify} holds ${saved.algo} digests, this run computes ${algo}: pass --algo ${saved.algo}`,
        );
      if (chunkSize !== null) checkChunkSize(saved, chunkSize, verify);
    }
    return { algo, chunkSize, recordSize: layout.recordSize, headerBytes: layout.headerBytes, verify };
  },
  init() {
    return { chunks: [], bytes: [] };
  },
  js(spec, chunk) {
    const b = new Uint8Array(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.records * chunk.recordSize);
    const d = spec.algo === 'xxh64' ? hex(xxh64(b), 16) : hex(crc32c(b), 8);
    return { partial: { chunks: [d], bytes: [b.length] } };
  },
  native(spec, c) {
    const d = c.addon.checksum(c.mapping, c.byteOffset, c.records, c.recordSize, spec.algo, c.ctl);
    return d === null ? null : { partial: { chunks: [d], bytes: [c.records * c.recordSize] } };
  },
  merge(_spec, a, b) {
    // a is the running accumulator (a fresh init() or an earlier merge): extend it in place, so
    // merging n chunks costs O(n), not O(n^2).
    for (const d of b.chunks) a.chunks.push(d);
    for (const n of b.bytes) a.bytes.push(n);
    return a;
  },
  finalize(spec, p) {
    const chunkSize = spec.chunkSize ?? p.bytes[0] ?? 0;
    let digest: string;
    if (spec.algo === 'crc32c') {
      let crc = 0;
      p.chunks.forEach((d, i) => {
        crc = crc32cCombine(crc, parseInt(d, 16), p.bytes[i]!);
      });
      digest = hex(crc, 8);
    } else {
      digest = hex(xxh64(bigEndian8(p.chunks)), 16);
    }
    const result: ChecksumResult = { algo: spec.algo, digest, chunk_size: chunkSize, chunks: p.chunks };
    if (spec.verify !== null) {
      const saved = loadReport(spec.verify);
      checkChunkSize(saved, chunkSize, spec.verify);
      const n = Math.max(saved.chunks.length, p.chunks.length);
      const total = p.bytes.reduce((s, x) => s + x, 0);
      for (let i = 0; i < n; i++) {
        if (saved.chunks[i] === p.chunks[i]) continue;
        const start = i * chunkSize;
        const end = i < p.chunks.length ? start + p.bytes[i]! : start + chunkSize;
        const where = `chunk ${i} (bytes ${start}..${end} of the data region${spec.headerBytes ? `, file offset ${start + spec.headerBytes}` : ''})`;
        if (i >= p.chunks.length) {
          throw runtime(
            `checksum mismatch: ${spec.verify} has ${saved.chunks.length} chunks, the file has ${p.chunks.length} (${total} bytes); first missing: ${where}`,
          );
        }
        if (i >= saved.chunks.length) {
          throw runtime(
            `checksum mismatch: ${spec.verify} has ${saved.chunks.length} chunks, the file has ${p.chunks.length}; first extra: ${where}`,
          );
        }
        const counts =
          saved.chunks.length === p.chunks.length
            ? ''
            : `; also ${spec.verify} has ${saved.chunks.length} chunks, the file has ${p.chunks.length}`;
        throw runtime(`checksum mismatch at ${where}: expected ${saved.chunks[i]}, got ${p.chunks[i]}${counts}`);
      }
      result.verified = true;
    }
    return result;
  },
  format(_spec, r) {
    const lines = [`${r.algo} ${r.digest}  (${r.chunks.length} chunks of ${r.chunk_size} bytes)`];
    if (r.verified) lines.push('verified: every chunk matches');
    return lines.join('\n');
  },
};
