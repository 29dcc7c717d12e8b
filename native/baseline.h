// baseline.h — the memory-read baseline for benchmarks: sum a mapped range as 64-bit words, the
// cheapest possible full read, i.e. the speed limit every kernel is measured against.
#pragma once

#include <napi.h>

namespace bigproc {

/** readBaseline(mapping, byteOffset, words, 8) → bigint: Σ words mod 2^64. */
Napi::Value ReadBaseline(const Napi::CallbackInfo& info);

}  // namespace bigproc
