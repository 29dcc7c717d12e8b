// sample.cc — bottom-n sampling: every record gets the key splitmix64(seed ^ (index · golden)) (a
// bijection of the index, so keys never tie) and a bounded max-heap keeps the n smallest. Keys depend
// only on the record number, so the union of per-chunk bottom-n sets, cut to n, is the file's bottom-n
// whatever the chunking. Only the kept records are read from the file.
#include <algorithm>
#include <cstring>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr size_t kKeyBlock = 4096;

BP_INLINE uint64_t SplitMix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Entry {
  uint64_t key;
  uint64_t index;  // within the span
};

BP_INLINE bool Less(const Entry& a, const Entry& b) { return a.key < b.key || (a.key == b.key && a.index < b.index); }

/** keys[j] = splitmix64(seed ^ ((first + j) · golden)) for j < n. */
BP_CLONES void Keys(uint64_t seed, uint64_t first, size_t n, uint64_t* __restrict keys) {
  for (size_t j = 0; j < n; j++) keys[j] = SplitMix64(seed ^ ((first + j) * kGolden));
}

struct State {
  std::vector<Entry> heap;  // max-heap by Less: the root is the largest key kept
  std::vector<uint64_t> keys;
};

void Scan(State& st, size_t cap, uint64_t seed, uint64_t firstRecord, uint64_t start, uint64_t n) {
  auto cmp = [](const Entry& a, const Entry& b) { return Less(a, b); };
  std::vector<Entry>& heap = st.heap;
  for (uint64_t s = 0; s < n; s += kKeyBlock) {
    const size_t m = static_cast<size_t>(n - s < kKeyBlock ? n - s : kKeyBlock);
    const uint64_t local = start + s;
    Keys(seed, firstRecord + local, m, st.keys.data());
    size_t j = 0;
    // Fill the heap, then only keys below its root get in (records scan in order: an equal key can't occur).
    for (; j < m && heap.size() < cap; j++) {
      heap.push_back(Entry{st.keys[j], local + j});
      std::push_heap(heap.begin(), heap.end(), cmp);
    }
    if (j == m) continue;
    uint64_t worst = heap.front().key;
    for (; j < m; j++) {
      if (st.keys[j] < worst) {
        std::pop_heap(heap.begin(), heap.end(), cmp);
        heap.back() = Entry{st.keys[j], local + j};
        std::push_heap(heap.begin(), heap.end(), cmp);
        worst = heap.front().key;
      }
    }
  }
}

struct SampleArgs {
  Span span;
  uint64_t n = 0;
  uint64_t seed = 0;
  uint64_t firstRecord = 0;
  Control ctl;
};

/** The kept (key, index within the span) pairs ascending, and their records' bytes in the same order. */
struct SampleOut {
  std::vector<Entry> kept;
  std::vector<uint8_t> bytes;
};

/** sample(mapping, byteOffset, records, recordSize, n, seed, firstRecord, ctl) */
SampleArgs ParseSample(const Napi::CallbackInfo& info) {
  SampleArgs a;
  a.span = ToSpan(info);
  // No upper bound here (src/ops/sample.ts caps --sample-size): the heap never holds more than the span's records.
  a.n = ToIndex(info[4], "n", true);
  a.seed = ToWrappedU64(info[5], "seed");
  a.firstRecord = ToIndex(info[6], "firstRecord");
  a.ctl = ToControl(info[7], "ctl");
  return a;
}

/** Keep the min(n, records) smallest keys, sort them, copy their records out. No N-API. */
Outcome ComputeSample(const SampleArgs& a, SampleOut* out) {
  const Span& span = a.span;
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const size_t cap = static_cast<size_t>(std::min<uint64_t>(a.n, span.records));
  State st;
  st.heap.reserve(cap);
  st.keys.resize(kKeyBlock);
  const uint64_t per = Control::BlockRecords(span.recordSize);
  for (uint64_t start = 0; start < span.records; start += per) {
    const uint64_t m = span.records - start < per ? span.records - start : per;
    Scan(st, cap, a.seed, a.firstRecord, start, m);
    a.ctl.Add(m * span.recordSize);
    if (a.ctl.Cancelled()) return Outcome::Cancelled;
  }
  std::sort(st.heap.begin(), st.heap.end(), Less);
  out->kept = std::move(st.heap);
  const size_t k = out->kept.size();
  const size_t rs = static_cast<size_t>(span.recordSize);
  out->bytes.resize(k * rs);
  uint8_t* rec = out->bytes.data();
  const Entry* kept = out->kept.data();
  // The only reads of the file: under the guard, as the file may shrink at any time.
  auto copy = [&] {
    for (size_t j = 0; j < k; j++) std::memcpy(rec + j * rs, span.Record(kept[j].index), rs);
  };
  return k == 0 ? Outcome::Done : RunMapped(copy);
}

/** → {keys: BigUint64Array, indices: Float64Array, bytes: Uint8Array} (src/ops/sample.ts: SampleKeptNative). */
Napi::Value ConvertSample(Napi::Env env, const SampleArgs& a, const SampleOut& out) {
  const size_t k = out.kept.size();
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  Napi::ArrayBuffer keyBuf = Napi::ArrayBuffer::New(env, k * 8);
  Napi::ArrayBuffer idxBuf = Napi::ArrayBuffer::New(env, k * 8);
  Napi::ArrayBuffer recBuf = Napi::ArrayBuffer::New(env, k * rs);
  uint64_t* keys = static_cast<uint64_t*>(keyBuf.Data());
  double* idx = static_cast<double*>(idxBuf.Data());
  for (size_t j = 0; j < k; j++) {
    keys[j] = out.kept[j].key;
    idx[j] = static_cast<double>(a.firstRecord + out.kept[j].index);
  }
  if (k != 0) std::memcpy(recBuf.Data(), out.bytes.data(), k * rs);
  Napi::Object result = Napi::Object::New(env);
  napi_value keyArr;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, napi_biguint64_array, k, keyBuf, 0, &keyArr), Napi::Value());
  result.Set("keys", Napi::Value(env, keyArr));
  result.Set("indices", Napi::Float64Array::New(env, k, idxBuf, 0));
  result.Set("bytes", Napi::Uint8Array::New(env, k * rs, recBuf, 0));
  return result;
}

/**
 * sample(mapping, byteOffset, records, recordSize, n, seed, firstRecord, ctl) → SampleKeptNative, or null
 * when cancelled. Record i (i = firstRecord + its position in the span) has key
 * splitmix64(seed ^ (i · 0x9E3779B97F4A7C15)); the result holds the min(n, records) smallest (key, index)
 * pairs in ascending order, with the records' bytes concatenated in the same order.
 */
Napi::Value Sample(const Napi::CallbackInfo& info) {
  const SampleArgs args = ParseSample(info);
  SampleOut out;
  if (!Settle(info.Env(), ComputeSample(args, &out))) return info.Env().Null();
  return ConvertSample(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("sample", Sample);

}  // namespace bigproc
