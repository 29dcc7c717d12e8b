// top.cc — top-k kernel: one pass with a bounded heap of (value, record) whose root is the worst
// entry kept. Records are scanned in file order, so a value equal to the worst one kept never
// replaces it (the earlier record wins the tie). Values are compared in their own C type (exact for
// 64-bit integers); NaN never ranks; -0 and +0 compare equal.
#include "top.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr uint64_t kMaxK = 1000000;

template <typename T>
struct Entry {
  T v;
  uint64_t i;
};

template <typename T, bool Asc>
BP_INLINE bool Better(const Entry<T>& a, const Entry<T>& b) {
  if (Asc) return a.v < b.v || (a.v == b.v && a.i < b.i);
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

/** Scan records [start, start + n) into the heap (heap order: Better as "less", so the root is the worst). */
template <typename T, bool Swap, bool Asc>
BP_INLINE void ScanT(const Span& span, uint32_t off, uint64_t start, uint64_t n, size_t k, std::vector<Entry<T>>& heap) {
  auto cmp = [](const Entry<T>& a, const Entry<T>& b) { return Better<T, Asc>(a, b); };
  const uint8_t* p = span.Record(start) + off;
  const size_t rs = static_cast<size_t>(span.recordSize);
  for (uint64_t r = 0; r < n; r++, p += rs) {
    const T v = Load<T, Swap>(p);
    if (v != v) continue;  // NaN
    if (heap.size() < k) {
      heap.push_back({v, start + r});
      std::push_heap(heap.begin(), heap.end(), cmp);
    } else {
      const T w = heap.front().v;
      if (Asc ? !(v < w) : !(v > w)) continue;  // equal: the kept, earlier record wins
      std::pop_heap(heap.begin(), heap.end(), cmp);
      heap.back() = {v, start + r};
      std::push_heap(heap.begin(), heap.end(), cmp);
    }
  }
}

template <typename T, bool Swap>
Napi::Value Run(Napi::Env env, const Span& span, uint32_t off, size_t k, bool asc, uint64_t firstRecord, Control& ctl) {
  std::vector<Entry<T>> heap;
  heap.reserve(std::min<uint64_t>(k, span.records));
  bool cancelled = false;
  auto body = [&] {
    const uint64_t per = Control::BlockRecords(span.recordSize);
    for (uint64_t start = 0; start < span.records; start += per) {
      const uint64_t n = span.records - start < per ? span.records - start : per;
      if (asc) {
        ScanT<T, Swap, true>(span, off, start, n, k, heap);
      } else {
        ScanT<T, Swap, false>(span, off, start, n, k, heap);
      }
      ctl.Add(n * span.recordSize);
      if (ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
  };
  if (k > 0) Guarded(env, body);
  if (cancelled) return env.Null();
  if (asc) {
    std::sort(heap.begin(), heap.end(), [](const Entry<T>& a, const Entry<T>& b) { return Better<T, true>(a, b); });
  } else {
    std::sort(heap.begin(), heap.end(), [](const Entry<T>& a, const Entry<T>& b) { return Better<T, false>(a, b); });
  }
  const size_t rs = static_cast<size_t>(span.recordSize);
  // The records are copied out under the guard as well: the file may shrink at any time.
  std::vector<uint8_t> all(heap.size() * rs);
  auto copy = [&] {
    for (size_t j = 0; j < heap.size(); j++) std::memcpy(all.data() + j * rs, span.Record(heap[j].i), rs);
  };
  if (!heap.empty()) Guarded(env, copy);
  Napi::Array out = Napi::Array::New(env, heap.size());
  for (size_t j = 0; j < heap.size(); j++) {
    Napi::Object row = Napi::Object::New(env);
    row.Set("index", Napi::Number::New(env, static_cast<double>(firstRecord + heap[j].i)));
    row.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, all.data() + j * rs, rs));
    out.Set(static_cast<uint32_t>(j), row);
  }
  return out;
}

}  // namespace

Napi::Value Top(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span span = ToSpan(info);
  FieldRef field = ToFieldRef(info[4], "field", span.recordSize);
  uint64_t k = ToIndex(info[5], "k", true);
  if (k > kMaxK) ThrowExpected(env, "k", "integer between 1 and 1000000", info[5]);
  bool asc = ToBool(info[6], "asc");
  uint64_t firstRecord = ToIndex(info[7], "firstRecord");
  Control ctl = ToControl(info[8], "ctl");
  if (ctl.Cancelled()) return env.Null();
  const size_t kk = static_cast<size_t>(k);
#define BP_CALL(T, S) return Run<T, S>(env, span, field.offset, kk, asc, firstRecord, ctl)
  BP_TYPE_SWITCH(field.type, field.swap, BP_CALL)
#undef BP_CALL
  return env.Null();
}

}  // namespace bigproc
