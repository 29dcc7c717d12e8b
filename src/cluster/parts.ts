// --out in a multi-host run: each shard writes its records to a part file named by shard and fencing
// token (so a stale holder can never overwrite the part of the current one); once every shard is
// committed the parts named by the committed tokens become the output — concatenated in shard order
// into the --out file, or, when --out ends in '/', kept as a directory of parts with a _SUCCESS marker.
// Assembly is idempotent: a host that finds the run merged but the output unfinished completes it.
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { AtomicFile, openAtomicFile } from '../engine/output.js';
import { BigprocError, EXIT } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import { describeSystemError } from '../report/system-error.js';

export type OutKind = 'none' | 'file' | 'dir';

export function outKind(out: string | undefined): OutKind {
  return !out ? 'none' : out.endsWith('/') ? 'dir' : 'file';
}

/** The output directory of a `--out DIR/`. */
function outDir(out: string): string {
  return out.replace(/\/+$/, '');
}

/**
 * Where parts are written until the run is merged: `<out>.parts/` next to the final file, or a hidden
 * `.staging/` inside the output directory (so a stale host finishing late can never add a visible
 * `part-*` file beside `_SUCCESS`).
 */
export function partsDir(out: string): string {
  return out.endsWith('/') ? join(outDir(out), '.staging') : `${out}.parts`;
}

const pad = (shard: number) => String(shard).padStart(6, '0');

export function partPath(out: string, shard: number, token: number): string {
  return join(partsDir(out), `part-${pad(shard)}.t${token}`);
}

export function openPart(out: string, shard: number, token: number): AtomicFile {
  try {
    makeDirs(partsDir(out));
  } catch (e) {
    throw new BigprocError(`cannot write --out ${JSON.stringify(out)}: ${describeSystemError(e)}`, EXIT.usage);
  }
  return new AtomicFile(partPath(out, shard, token));
}

/** Remove the part of a token whose commit was rejected: it will never be part of the output. */
export function discardPart(out: string, shard: number, token: number): void {
  rmSync(partPath(out, shard, token), { force: true });
}

/** Which run a `--out DIR/` output belongs to: its id and runHash (the same id can name two runs). */
export interface OutputOwner {
  run_id: string;
  fingerprint: string;
}

/**
 * The run whose finished output a `--out DIR/` holds (its _SUCCESS names it): null when none is
 * finished there; a run_id of '' for a marker that names no run (not written by bigproc).
 */
function finishedRun(out: string): OutputOwner | null {
  let text: string;
  try {
    text = readFileSync(join(outDir(out), '_SUCCESS'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as Partial<OutputOwner>;
    return typeof m.run_id === 'string' && typeof m.fingerprint === 'string'
      ? { run_id: m.run_id, fingerprint: m.fingerprint }
      : UNNAMED;
  } catch {
    return UNNAMED;
  }
}

const UNNAMED: OutputOwner = { run_id: '', fingerprint: '' };

const same = (a: OutputOwner, b: OutputOwner) => a.run_id === b.run_id && a.fingerprint === b.fingerprint;

/**
 * Before a run works for a `--out DIR/`: the directory must not hold another run's finished output.
 * Assembly would otherwise find _SUCCESS, take the output for done and keep the old parts (or mix
 * the two runs' parts). The same run's own output is fine: a re-run of a finished run does nothing.
 */
export function checkOutputDir(out: string, owner: OutputOwner): void {
  if (!out.endsWith('/')) return;
  const other = finishedRun(out);
  if (other !== null && !same(other, owner)) {
    const which =
      other.run_id === ''
        ? 'a run its marker does not name'
        : other.run_id === owner.run_id
          ? `another run named ${JSON.stringify(other.run_id)} (other file, options or plan)`
          : `run ${JSON.stringify(other.run_id)}`;
    throw new BigprocError(
      `--out ${JSON.stringify(out)} already holds the output of ${which} (it has a _SUCCESS marker): remove it, or give another --out`,
      EXIT.usage,
    );
  }
}

/** Make the output final from the committed tokens (one per shard, in shard order). */
export function assembleOutput(out: string, tokens: number[], owner: OutputOwner): void {
  const dir = partsDir(out);
  if (out.endsWith('/')) {
    const final = outDir(out);
    const done = finishedRun(out);
    if (done !== null && same(done, owner)) return;
    // checkOutputDir let this run start: another run finished in the same directory since
    if (done !== null)
      throw new BigprocError(
        `--out ${JSON.stringify(out)} was finished by run ${JSON.stringify(done.run_id)} while this one ran: its parts are left in ${dir}`,
        EXIT.runtime,
      );
    tokens.forEach((t, s) => {
      const to = join(final, `part-${pad(s)}`);
      try {
        renameSync(join(dir, `part-${pad(s)}.t${t}`), to);
      } catch (e) {
        // Renamed already by another host finishing the same assembly.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(to)) throw e;
      }
    });
    // What is left in staging (parts of stale or rejected tokens) is not part of the output; nor is a
    // visible part beyond this run's last (left by an assembly that crashed before its _SUCCESS).
    rmSync(dir, { recursive: true, force: true });
    for (const name of readdirSync(final)) {
      const m = /^part-(\d+)$/.exec(name);
      if (m && Number(m[1]) >= tokens.length) rmSync(join(final, name), { force: true });
    }
    writeFileSync(join(final, '_SUCCESS'), `${JSON.stringify({ ...owner, parts: tokens.length })}\n`);
    return;
  }
  if (!existsSync(dir)) return; // assembled and cleaned up already
  const f = openAtomicFile(out);
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    tokens.forEach((t, s) => {
      const fd = openSync(join(dir, `part-${pad(s)}.t${t}`), 'r');
      try {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n <= 0) break;
          f.write(buf.subarray(0, n));
        }
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
