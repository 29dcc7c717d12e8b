// filter.cc — predicate kernel.
//
// The program (postfix: cmp / const / and / or / not) is parsed and evaluated per block of records
// into a 0/1 byte mask by predicate.h, the evaluator every kernel with a --where shares. Matching
// records are counted and, when asked for, copied out in file order.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"
#include "predicate.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 256;  // records per mask block (≤ kPredBlock): gather, compare and count overlap in the core

/** Copy one record of rs bytes; small sizes use two overlapping fixed-size moves (no libc call). */
inline void CopyRecord(uint8_t* o, const uint8_t* src, size_t rs) {
  if (rs >= 16 && rs <= 32) {
    uint8_t a[16], b[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + rs - 16, 16);
    std::memcpy(o, a, 16);
    std::memcpy(o + rs - 16, b, 16);
  } else if (rs >= 8 && rs < 16) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + rs - 8, 8);
    std::memcpy(o, &a, 8);
    std::memcpy(o + rs - 8, &b, 8);
  } else {
    std::memcpy(o, src, rs);
  }
}

/** Copy the records whose mask byte is set to out, in order; returns bytes written. */
size_t CopyMatches(const uint8_t* p, size_t n, size_t rs, const uint8_t* mask, uint8_t* out) {
  uint8_t* o = out;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, mask + i, 8);
    if (word == 0) continue;
    for (size_t j = i; j < i + 8; j++) {
      if (mask[j]) {
        CopyRecord(o, p + j * rs, rs);
        o += rs;
      }
    }
  }
  for (; i < n; i++) {
    if (mask[i]) {
      CopyRecord(o, p + i * rs, rs);
      o += rs;
    }
  }
  return static_cast<size_t>(o - out);
}


// Output memory. Fresh pages cost a kernel page fault + zeroing each (measured: most of the time of
// an output-heavy filter), so allocations handed to JS come back here when their Buffer is garbage
// collected and are reused by later calls on the same thread.
struct Block {
  uint8_t* data;
  size_t capacity;
};

constexpr size_t kPoolBlocks = 4;
constexpr size_t kPoolMaxBytes = size_t{256} << 20;  // per thread, counted in capacity

struct Pool {
  std::vector<Block> blocks;
  size_t bytes = 0;
  ~Pool() {
    for (Block& b : blocks) std::free(b.data);
  }
};
thread_local Pool t_pool;

/** The largest pooled block, or an empty one. */
Block TakePooled() {
  std::vector<Block>& v = t_pool.blocks;
  if (v.empty()) return Block{nullptr, 0};
  size_t best = 0;
  for (size_t i = 1; i < v.size(); i++) {
    if (v[i].capacity > v[best].capacity) best = i;
  }
  Block b = v[best];
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(best));
  t_pool.bytes -= b.capacity;
  return b;
}

void GiveBack(Block b) {
  std::vector<Block>& v = t_pool.blocks;
  if (v.size() < kPoolBlocks && t_pool.bytes + b.capacity <= kPoolMaxBytes) {
    v.push_back(b);
    t_pool.bytes += b.capacity;
  } else {
    std::free(b.data);
  }
}

struct OutBuf {
  Block block{nullptr, 0};
  size_t size = 0;
  bool failed = false;

  bool Reserve(size_t extra) {
    if (size + extra <= block.capacity) return true;
    if (block.data == nullptr) {
      block = TakePooled();
      if (size + extra <= block.capacity) return true;
    }
    size_t want = block.capacity == 0 ? (size_t{4} << 20) : block.capacity * 2;
    if (want < size + extra) want = size + extra;
    void* p = std::realloc(block.data, want);
    if (p == nullptr) {
      failed = true;
      return false;
    }
    block.data = static_cast<uint8_t*>(p);
    block.capacity = want;
    return true;
  }
  /** Hand the block over (to a Buffer); the OutBuf no longer owns it. */
  Block Release() {
    Block b = block;
    block = Block{nullptr, 0};
    return b;
  }
  ~OutBuf() {
    if (block.data != nullptr) GiveBack(block);
  }
};

struct FilterArgs {
  Span span;
  Predicate pred;
  bool wantOutput = false;
  Control ctl;
};

struct FilterOut {
  uint64_t matched = 0;
  OutBuf records;  // the matching records' bytes, in file order (wantOutput only)
};

/** filter(mapping, byteOffset, records, recordSize, program, wantOutput, ctl) */
void ParseFilter(const Napi::CallbackInfo& info, FilterArgs* a) {
  a->span = ToSpan(info);
  // filter needs a program (others treat a missing one as "all records")
  if (!info[4].IsArray()) ThrowExpected(info.Env(), "program", "non-empty array of instructions", info[4]);
  a->pred.Parse(info[4], a->span.recordSize, "program");
  a->wantOutput = ToBool(info[5], "wantOutput");
  a->ctl = ToControl(info[6], "ctl");
}

/** Count the matching records and, when asked, copy them out. No N-API. */
Outcome ComputeFilter(FilterArgs& a, FilterOut* out) {
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const Span& span = a.span;
  const size_t rs = static_cast<size_t>(span.recordSize);
  auto body = [&](uint64_t start, uint64_t n) {
    for (uint64_t s = 0; s < n; s += kBlock) {
      size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
      const uint8_t* p = span.Record(start + s);
      size_t c = 0;
      const uint8_t* stack = a.pred.Eval(p, m, rs, &c);
      out->matched += c;
      if (a.wantOutput && c != 0) {
        if (!out->records.Reserve(c * rs)) return false;
        out->records.size += CopyMatches(p, m, rs, stack, out->records.block.data + out->records.size);
      }
    }
    return true;
  };
  const Outcome o = ScanBlocks(span, a.ctl, body);
  if (out->records.failed) throw std::runtime_error("out of memory for the filter output");
  return o;
}

/** → {matched, out?} (src/ops/predicate.ts: FilterNativeResult); out views the pooled block, no copy. */
Napi::Value ConvertFilter(Napi::Env env, const FilterArgs& a, FilterOut& out) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("matched", Napi::Number::New(env, static_cast<double>(out.matched)));
  if (!a.wantOutput) return result;
  if (out.records.size == 0) {
    result.Set("out", Napi::Buffer<uint8_t>::New(env, 0));
    return result;
  }
  // The Buffer views the block (no copy); its finalizer returns the block to the pool.
  const size_t size = out.records.size;
  Block b = out.records.Release();
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
  result.Set("out", Napi::Buffer<uint8_t>::New(env, b.data, size, [b, size](Napi::Env e, uint8_t*) {
               GiveBack(b);
               // The C call, status ignored: finalizers also run while a worker's environment is
               // torn down (process.exit mid-run), where the C++ wrapper would throw and abort.
               int64_t ignored = 0;
               napi_adjust_external_memory(e, -static_cast<int64_t>(size), &ignored);
             }));
  return result;
}

/** filter(mapping, byteOffset, records, recordSize, program, wantOutput, ctl) → {matched, out?}, or null if cancelled. */
Napi::Value Filter(const Napi::CallbackInfo& info) {
  FilterArgs args;
  ParseFilter(info, &args);
  FilterOut out;
  if (!Settle(info.Env(), ComputeFilter(args, &out))) return info.Env().Null();
  return ConvertFilter(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("filter", Filter);

}  // namespace bigproc
