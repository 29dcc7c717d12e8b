// --out in a multi-host run: each shard writes its records to a part file named by shard and fencing
// token (so a stale holder can never overwrite the part of the current one); once every shard is
// committed the parts named by the committed tokens become the output — concatenated in shard order
// into the --out file, or, when --out ends in '/', kept as a directory of parts with a _SUCCESS marker.
// Assembly is idempotent: a host that finds the run merged but the output unfinished completes it.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AtomicFile } from './output.js';

export type OutKind = 'none' | 'file' | 'dir';

export function outKind(out: string | undefined): OutKind {
  return !out ? 'none' : out.endsWith('/') ? 'dir' : 'file';
}

/** Where the parts live: the directory itself, or `<out>.parts/` next to the final file. */
export function partsDir(out: string): string {
  return out.endsWith('/') ? out.replace(/\/+$/, '') : `${out}.parts`;
}

const pad = (shard: number) => String(shard).padStart(6, '0');

export function partPath(out: string, shard: number, token: number): string {
  return join(partsDir(out), `part-${pad(shard)}.t${token}`);
}

export function openPart(out: string, shard: number, token: number): AtomicFile {
  mkdirSync(partsDir(out), { recursive: true });
  return new AtomicFile(partPath(out, shard, token));
}

/** Make the output final from the committed tokens (one per shard, in shard order). */
export function assembleOutput(out: string, tokens: number[]): void {
  const dir = partsDir(out);
  if (out.endsWith('/')) {
    if (existsSync(join(dir, '_SUCCESS'))) return;
    tokens.forEach((t, s) => {
      const to = join(dir, `part-${pad(s)}`);
      try {
        renameSync(join(dir, `part-${pad(s)}.t${t}`), to);
      } catch (e) {
        // Renamed already by another host finishing the same assembly.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(to)) throw e;
      }
    });
    // Parts of stale or rejected tokens are not part of the output.
    for (const name of readdirSync(dir)) if (/^part-\d+\.t\d+$/.test(name)) rmSync(join(dir, name), { force: true });
    writeFileSync(join(dir, '_SUCCESS'), `${JSON.stringify({ parts: tokens.length })}\n`);
    return;
  }
  if (!existsSync(dir)) return; // assembled and cleaned up already
  const f = new AtomicFile(out);
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    tokens.forEach((t, s) => {
      const fd = openSync(join(dir, `part-${pad(s)}.t${t}`), 'r');
      try {
        for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) f.write(buf.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    });
    f.commit();
  } catch (e) {
    // Another host finished the same assembly first and removed the parts: its output is ours too.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(dir) && existsSync(out)) return;
    throw e;
  } finally {
    f.abort();
  }
  // The parts vanish in one step (a rename), so another host never sees half of them.
  const gone = `${dir}.removing-${process.pid}-${Date.now()}`;
  try {
    renameSync(dir, gone);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  rmSync(gone, { recursive: true, force: true });
}
