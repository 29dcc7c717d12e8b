// sample.h — sample(): the bottom-n records by a per-record random key (a reproducible uniform sample).
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * sample(mapping, byteOffset, records, recordSize, n, seed, firstRecord, ctl)
 *   → {keys: BigUint64Array, indices: Float64Array, bytes: Uint8Array} or null when cancelled.
 * Record i (i = firstRecord + its position in the span) has key splitmix64(seed ^ (i · 0x9E3779B97F4A7C15));
 * the result holds the min(n, records) smallest (key, index) pairs in ascending order, with the
 * records' bytes concatenated in the same order.
 */
Napi::Value Sample(const Napi::CallbackInfo& info);

}  // namespace bigproc
