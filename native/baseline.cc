// baseline.cc — the memory-read baseline for benchmarks: sum a mapped range as 64-bit words, the
// cheapest possible full read, i.e. the speed limit every kernel is measured against. A vectorised reduction in runtime-dispatched clones, so the AVX2
// path is used where present and the loop is bound by memory, not by instructions.
#include <cstdint>
#include <cstring>

#include "kernel.h"
#include "mapping.h"

namespace bigproc {

namespace {

#if defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
uint64_t SumWords(const uint8_t* p, uint64_t words) {
  // A plain reduction: GCC vectorises it (vpaddq on ymm in the avx2 clone) and unrolls it.
  uint64_t s = 0;
  for (uint64_t i = 0; i < words; i++) {
    uint64_t w;
    std::memcpy(&w, p + i * 8, 8);
    s += w;
  }
  return s;
}

}  // namespace

/** readBaseline(mapping, byteOffset, words, 8) → bigint: Σ words mod 2^64. */
Napi::Value ReadBaseline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span span = ToSpan(info);
  if (span.recordSize != 8) throw Napi::TypeError::New(env, "readBaseline reads 8-byte words: recordSize must be 8");
  uint64_t sum = 0;
  auto run = [&]() { sum = span.records ? SumWords(span.base, span.records) : 0; };
  Settle(env, RunMapped(run));
  return Napi::BigInt::New(env, sum);
}

BIGPROC_EXPORT("readBaseline", ReadBaseline);

}  // namespace bigproc
