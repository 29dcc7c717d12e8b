// --out DIR as a directory of column files: one `<name>.bin` per column plus `_schema.json`. Each
// chunk's output bytes are the chunk's columns one after another (column 0's values for all of the
// chunk's records, then column 1's, …), so with fixed-size values the record count is the byte count
// over the bytes per record and the column boundaries follow. Written like every other --out: into a
// temp directory next to DIR (`.DIR.bigproc-<host>-<pid>-<hex>.tmp`), renamed into place on commit; abort (a failed or
// interrupted run) removes it. DIR itself must be absent or an empty directory (replaced).
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { runtime } from '../errors.js';
import { type OutputTarget, removeStaleTemps, tempPathFor, trackOutput, untrackOutput } from './output.js';
import { outDirError, renameDirIntoPlace } from './output-dir.js';

export interface ColumnSpec {
  /** the column's name; its file is `<name>.bin` */
  name: string;
  /** bytes per value */
  size: number;
  /** more about the column for `_schema.json` (e.g. type and byte order) */
  meta?: Record<string, unknown>;
}

export const COLUMNS_MANIFEST = '_schema.json';

// field names are letters of any script, digits and _ (layout/fields.ts): all safe in file names
const SAFE_NAME = /^[\p{L}\p{M}\p{N}_][\p{L}\p{M}\p{N}_.-]*$/u;

/** DIR must be absent or an empty directory; anything else is refused (exit 2) before a byte is read. */
function checkTarget(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw outDirError(path, code ?? String(e));
  }
  if (!st.isDirectory())
    throw outDirError(
      path,
      'it exists and is not a directory (expected a new or empty directory for the column files)',
    );
  if (readdirSync(path).length > 0)
    throw outDirError(path, 'the directory is not empty (expected a new or empty directory for the column files)');
}

export class ColumnsDir implements OutputTarget {
  readonly path: string;
  readonly tempPath: string;
  readonly columns: ColumnSpec[];
  readonly recordBytes: number;
  records = 0;
  bytes = 0;
  private fds: number[] = [];
  private readonly head: Record<string, unknown>;

  /** head: manifest entries written before `records` and `columns` (e.g. format and version). */
  constructor(path: string, columns: ColumnSpec[], head: Record<string, unknown> = {}) {
    if (columns.length === 0) throw outDirError(path, 'no columns to write');
    const names = new Set<string>();
    for (const c of columns) {
      if (!SAFE_NAME.test(c.name) || names.has(c.name))
        throw outDirError(path, `column name ${JSON.stringify(c.name)} is not a distinct file name`);
      if (!(Number.isInteger(c.size) && c.size > 0))
        throw outDirError(path, `column ${JSON.stringify(c.name)} has no fixed size`);
      names.add(c.name);
    }
    this.path = path;
    this.columns = columns;
    this.head = head;
    this.recordBytes = columns.reduce((s, c) => s + c.size, 0);
    checkTarget(path);
    const abs = resolve(path);
    removeStaleTemps(abs);
    this.tempPath = tempPathFor(abs);
    try {
      mkdirSync(this.tempPath, { mode: 0o755 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw outDirError(path, err.code ?? err.message);
    }
    trackOutput(this);
    try {
      for (const c of columns) this.fds.push(openSync(join(this.tempPath, `${c.name}.bin`), 'w', 0o644));
    } catch (e) {
      this.abort();
      const err = e as NodeJS.ErrnoException;
      throw outDirError(path, err.code ?? err.message);
    }
  }

  /** One chunk: its columns one after another, each (records × size) bytes; written synchronously, so never full. */
  write(bytes: Uint8Array): undefined {
    if (bytes.length % this.recordBytes !== 0) {
      throw runtime(`column output of ${bytes.length} bytes is not whole records of ${this.recordBytes} bytes`);
    }
    const n = bytes.length / this.recordBytes;
    let at = 0;
    this.columns.forEach((c, i) => {
      const end = at + n * c.size;
      const fd = this.fds[i]!;
      for (let done = at; done < end; ) done += writeSync(fd, bytes, done, end - done);
      at = end;
    });
    this.records += n;
    this.bytes += bytes.length;
  }

  /** What `_schema.json` holds once the run is complete. */
  manifest(): Record<string, unknown> {
    return {
      ...this.head,
      records: this.records,
      columns: this.columns.map((c) => ({
        name: c.name,
        file: `${c.name}.bin`,
        size: c.size,
        ...c.meta,
        bytes: this.records * c.size,
      })),
    };
  }

  /** Flush every column, write the manifest, rename the directory into place. */
  commit(): void {
    for (const fd of this.fds) fsyncSync(fd);
    for (const fd of this.fds.splice(0)) closeSync(fd);
    const m = join(this.tempPath, COLUMNS_MANIFEST);
    writeFileSync(m, `${JSON.stringify(this.manifest(), null, 2)}\n`, { mode: 0o644 });
    const fd = openSync(m, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameDirIntoPlace(this.tempPath, this.path, () => untrackOutput(this));
  }

  abort(): void {
    if (!untrackOutput(this)) return;
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    try {
      rmSync(this.tempPath, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
  }
}
