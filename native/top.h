// top.h — top(): the k records with the largest (or smallest) value of one numeric field.
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * top(mapping, byteOffset, records, recordSize, field, k, asc, firstRecord, ctl)
 *   → [{index, bytes}] best first (ties: lower index first; NaN never ranks), or null when cancelled.
 */
Napi::Value Top(const Napi::CallbackInfo& info);

}  // namespace bigproc
