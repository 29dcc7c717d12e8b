// project.h — project(): selected fields of (optionally --where-filtered) records as CSV, NDJSON,
// packed binary records or binary columns.
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * project(mapping, byteOffset, records, recordSize, spec, program, header, ctl) → {records, out} or null.
 * spec: {format: 'csv'|'ndjson'|'bin'|'columns', fields: [{offset, type (numeric or 'bytes'), size, bigEndian}],
 *        prefixes: [string per field] and lineEnd: string (text formats)}
 * program: a --where program (as for filter), or null for every record.
 * header: a string written before the first record (e.g. the CSV header line), or ''.
 * out: a Uint8Array owning its ArrayBuffer (transferable), header + one line (or packed record) per record;
 *      columns: header + each field's bytes for every matching record, field after field (the transpose of bin).
 */
Napi::Value Project(const Napi::CallbackInfo& info);

/** The JavaScript text of a double (Number.prototype.toString); returns the end of what was written (≤ 25 chars). */
char* WriteJsDouble(char* o, double v);

}  // namespace bigproc
