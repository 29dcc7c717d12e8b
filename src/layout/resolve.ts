// One Layout from the layout options and the file's first bytes: --schema, --frame, --record-size,
// --header-bytes, --big-endian, or an .npy header when none of them is given.
import { expected, usage } from '../errors.js';
import { MAX_RECORD_SIZE, fieldTypeString } from './fields.js';
import { parseFrame } from './frame.js';
import { isNpy, npyDataOffset, parseNpyHeader } from './npy.js';
import { loadSchemaOption } from './schema.js';
import type { Layout } from './types.js';

export interface LayoutOptions {
  schema?: string;
  recordSize?: number;
  headerBytes?: number;
  frame?: string;
  bigEndian?: boolean;
}

/** The layout as `--json` output shows it (`"layout"`). */
export interface LayoutJson {
  record_size: number;
  endian: 'little' | 'big';
  header_bytes: number;
  fields: { name: string; type: string; offset: number }[];
}

function hasMultiByteNumbers(layout: Layout): boolean {
  return layout.fields.some((f) => f.type !== 'bytes' && f.size > 1);
}

/**
 * Decide the record layout. `head` is the start of the file (at least 64 KiB, or all of it; null
 * when there is no file) and `fileLabel` names the file in messages.
 *
 * - `--schema` (inline or `@file.json`) and `--frame` exclude each other.
 * - `--record-size` alone: opaque records (no fields). With `--schema` it must be at least the
 *   schema's size, the extra bytes being trailing padding; with `--frame` it must equal W·H·C.
 * - Nothing given: an .npy file describes itself; any other file is an error.
 * - `--header-bytes` overrides a JSON layout's `header_bytes`; it is an error with an .npy file.
 * - `--big-endian` makes an explicit layout big-endian; with an .npy file it must agree with the header.
 */
export function resolveLayout(opts: LayoutOptions, head: Uint8Array | null, fileLabel: string): Layout {
  const { schema, frame, recordSize, headerBytes } = opts;
  if (
    recordSize !== undefined &&
    (!Number.isSafeInteger(recordSize) || recordSize < 1 || recordSize > MAX_RECORD_SIZE)
  ) {
    throw expected('--record-size', `a positive integer of at most ${MAX_RECORD_SIZE} bytes`, recordSize);
  }
  if (headerBytes !== undefined && (!Number.isSafeInteger(headerBytes) || headerBytes < 0)) {
    throw expected('--header-bytes', 'a non-negative integer', headerBytes);
  }
  if (schema !== undefined && frame !== undefined) {
    throw usage(
      `--schema and --frame cannot be used together: give one (received --schema ${JSON.stringify(schema)} and --frame ${JSON.stringify(frame)})`,
    );
  }
  const npy = head !== null && isNpy(head);
  if (npy && headerBytes !== undefined) {
    throw usage(
      `--header-bytes cannot be used with the .npy file ${fileLabel}: its header is skipped automatically (received --header-bytes ${headerBytes})`,
    );
  }

  if (schema === undefined && frame === undefined && recordSize === undefined) {
    if (!npy)
      throw usage(`No record layout for ${fileLabel}: give --schema, --record-size or --frame (or use an .npy file)`);
    const layout = parseNpyHeader(head, fileLabel).layout;
    if (opts.bigEndian && !layout.bigEndian && hasMultiByteNumbers(layout)) {
      throw usage(`--big-endian conflicts with ${fileLabel}: its .npy header says the data is little-endian`);
    }
    return layout;
  }

  let layout: Layout;
  if (frame !== undefined) {
    layout = parseFrame(frame);
    if (recordSize !== undefined && recordSize !== layout.recordSize) {
      throw expected(
        '--record-size',
        `${layout.recordSize} (W·H·C of --frame ${frame}) or no --record-size`,
        recordSize,
      );
    }
  } else if (schema !== undefined) {
    layout = loadSchemaOption(schema);
    if (opts.bigEndian && schema.trimStart().startsWith('<')) {
      throw usage(
        `--big-endian conflicts with --schema ${JSON.stringify(schema)}, which starts with '<' (little-endian)`,
      );
    }
    if (recordSize !== undefined) {
      if (recordSize < layout.recordSize) {
        throw expected('--record-size', `at least ${layout.recordSize} (the size of the --schema record)`, recordSize);
      }
      layout = { ...layout, recordSize };
    }
  } else {
    layout = { recordSize: recordSize!, bigEndian: false, fields: [], headerBytes: 0, source: 'record-size' };
  }
  if (opts.bigEndian && frame === undefined) layout = { ...layout, bigEndian: true };

  if (npy) {
    // An .npy file read with an explicit layout: the user's layout describes the records, but the
    // .npy header is still skipped (headerBytes = where its data starts). The header's own dtype is
    // not read, so an .npy with a dtype bigproc cannot map still works with --record-size.
    const dataOffset = npyDataOffset(head, fileLabel);
    if (layout.headerBytes !== 0 && layout.headerBytes !== dataOffset) {
      throw usage(
        `--schema ${schema} sets header_bytes ${layout.headerBytes}, but ${fileLabel} is an .npy file whose data starts at byte ${dataOffset}`,
      );
    }
    layout = { ...layout, headerBytes: dataOffset };
  } else if (headerBytes !== undefined) {
    layout = { ...layout, headerBytes };
  }
  return layout;
}

/** The layout as `--json` output shows it: `{record_size, endian, header_bytes, fields: [{name, type, offset}]}`. */
export function layoutToJson(layout: Layout): LayoutJson {
  return {
    record_size: layout.recordSize,
    endian: layout.bigEndian ? 'big' : 'little',
    header_bytes: layout.headerBytes,
    fields: layout.fields.map((f) => ({ name: f.name, type: fieldTypeString(f), offset: f.offset })),
  };
}
