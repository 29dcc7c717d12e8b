// groupby.h — groupby(): hash aggregation of records by integer / bytes<N> key fields, with exact
// per-group accumulators (the same partial shapes as stats) for the aggregated numeric fields.
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * groupby(mapping, byteOffset, records, recordSize, spec, program, ctl)
 *   spec: {keys: [{offset, size, kind: 'int'|'bytes', type?, bigEndian?}],
 *          fields: [{offset, type, bigEndian?, sum: bool, sq: bool}], maxGroups}
 *   program: a --where program (as filter takes) or null
 * → {n, keys: Uint8Array(n·W) canonical keys in ascending order, counts: Float64Array(n),
 *    accs: [columns per field (see groupby.cc)]}, or {n: 0, …, overflow: true} when more than
 *    maxGroups distinct keys occur; null when cancelled.
 * The canonical key: each key field in order, integers
 * big-endian with the sign bit flipped (so bytewise order is numeric order), bytes as they are.
 */
Napi::Value Groupby(const Napi::CallbackInfo& info);

}  // namespace bigproc
