// top.cc — top-k kernel: one pass with a bounded heap of (value, record) whose root is the worst
// entry kept. Records are scanned in file order, so a value equal to the worst one kept never
// replaces it (the earlier record wins the tie). Values are compared in their own C type (exact for
// 64-bit integers); NaN never ranks; -0 and +0 compare equal.
#include <algorithm>
#include <cstring>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

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

struct TopArgs {
  Span span;
  FieldRef field;
  size_t k = 0;
  bool asc = false;
  uint64_t firstRecord = 0;
  Control ctl;
};

/** The kept records, best first: their numbers within the span and their bytes, concatenated. */
struct TopOut {
  std::vector<uint64_t> index;
  std::vector<uint8_t> bytes;
};

/** top(mapping, byteOffset, records, recordSize, field, k, asc, firstRecord, ctl) */
TopArgs ParseTop(const Napi::CallbackInfo& info) {
  TopArgs a;
  a.span = ToSpan(info);
  a.field = ToFieldRef(info[4], "field", a.span.recordSize);
  // No upper bound here (src/ops/top.ts caps --top-k): the heap never holds more than the span's records.
  a.k = static_cast<size_t>(ToIndex(info[5], "k", true));
  a.asc = ToBool(info[6], "asc");
  a.firstRecord = ToIndex(info[7], "firstRecord");
  a.ctl = ToControl(info[8], "ctl");
  return a;
}

/** Scan with a heap of at most k entries, sort best first, copy the kept records out. No N-API. */
template <typename T, bool Swap>
Outcome ComputeTopT(const TopArgs& a, TopOut* out) {
  const Span& span = a.span;
  std::vector<Entry<T>> heap;
  heap.reserve(std::min<uint64_t>(a.k, span.records));
  auto body = [&](uint64_t start, uint64_t n) {
    if (a.asc) {
      ScanT<T, Swap, true>(span, a.field.offset, start, n, a.k, heap);
    } else {
      ScanT<T, Swap, false>(span, a.field.offset, start, n, a.k, heap);
    }
    return true;
  };
  const Outcome o = ScanBlocks(span, a.ctl, body);
  if (o != Outcome::Done) return o;
  if (a.asc) {
    std::sort(heap.begin(), heap.end(), [](const Entry<T>& x, const Entry<T>& y) { return Better<T, true>(x, y); });
  } else {
    std::sort(heap.begin(), heap.end(), [](const Entry<T>& x, const Entry<T>& y) { return Better<T, false>(x, y); });
  }
  const size_t rs = static_cast<size_t>(span.recordSize);
  out->index.resize(heap.size());
  for (size_t j = 0; j < heap.size(); j++) out->index[j] = heap[j].i;
  // The records are copied out under the guard as well: the file may shrink at any time.
  out->bytes.resize(heap.size() * rs);
  uint8_t* dst = out->bytes.data();
  const uint64_t* index = out->index.data();
  const size_t kept = heap.size();
  auto copy = [&] {
    for (size_t j = 0; j < kept; j++) std::memcpy(dst + j * rs, span.Record(index[j]), rs);
  };
  return kept == 0 ? Outcome::Done : RunMapped(copy);
}

Outcome ComputeTop(const TopArgs& a, TopOut* out) {
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
#define BP_CALL(T, S) return ComputeTopT<T, S>(a, out)
  BP_TYPE_SWITCH(a.field.type, a.field.swap, BP_CALL)
#undef BP_CALL
  return Outcome::Done;
}

/** → [{index, bytes}] best first (src/ops/top.ts: TopRow). */
Napi::Value ConvertTop(Napi::Env env, const TopArgs& a, const TopOut& out) {
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  Napi::Array list = Napi::Array::New(env, out.index.size());
  for (size_t j = 0; j < out.index.size(); j++) {
    Napi::Object row = Napi::Object::New(env);
    row.Set("index", Napi::Number::New(env, static_cast<double>(a.firstRecord + out.index[j])));
    row.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, out.bytes.data() + j * rs, rs));
    list.Set(static_cast<uint32_t>(j), row);
  }
  return list;
}

/** top(mapping, byteOffset, records, recordSize, field, k, asc, firstRecord, ctl) → TopRow[], or null if cancelled. */
Napi::Value Top(const Napi::CallbackInfo& info) {
  const TopArgs args = ParseTop(info);
  TopOut out;
  if (!Settle(info.Env(), ComputeTop(args, &out))) return info.Env().Null();
  return ConvertTop(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("top", Top);

}  // namespace bigproc
