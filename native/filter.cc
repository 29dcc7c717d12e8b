// filter.cc — predicate kernel.
//
// The program (postfix: cmp / const / and / or / not) is validated once, then evaluated per block of
// 4096 records into byte masks (0/1) on a small stack of mask buffers. A comparison first gathers the
// field into a contiguous typed column, then compares the column against the constant — the loop
// that vectorises. Matching records are counted and, when asked for, copied out in file order.
#include "filter.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 4096;

enum class Op : uint8_t { Cmp, Const, And, Or, Not };
enum class Cmp : uint8_t { Lt, Le, Gt, Ge, Eq, Ne };

struct Instr {
  Op op = Op::Const;
  FieldRef field;
  Cmp cmp = Cmp::Eq;
  uint64_t ivalue = 0;  // integer constant, two's-complement bits
  double fvalue = 0;    // float constant
  bool bvalue = false;  // const
};

template <Cmp C, typename T>
BP_INLINE bool Compare(T a, T b) {
  if constexpr (C == Cmp::Lt) return a < b;
  if constexpr (C == Cmp::Le) return a <= b;
  if constexpr (C == Cmp::Gt) return a > b;
  if constexpr (C == Cmp::Ge) return a >= b;
  if constexpr (C == Cmp::Eq) return a == b;
  if constexpr (C == Cmp::Ne) return a != b;
}

/** Gather the field into a column, then mask[i] = (column[i] CMP value). */
template <typename T, bool Swap, Cmp C>
BP_INLINE void CmpLoop(const uint8_t* p, size_t n, size_t rs, const Instr& in, void* scratch, uint8_t* __restrict mask) {
  T* __restrict col = static_cast<T*>(scratch);
  for (size_t i = 0; i < n; i++) col[i] = Load<T, Swap>(p + i * rs);
  if constexpr (std::is_floating_point_v<T>) {
    const double v = in.fvalue;
    for (size_t i = 0; i < n; i++) mask[i] = Compare<C, double>(static_cast<double>(col[i]), v);
  } else {
    const T v = static_cast<T>(in.ivalue);
    for (size_t i = 0; i < n; i++) mask[i] = Compare<C, T>(col[i], v);
  }
}

template <typename T, bool Swap>
BP_INLINE void CmpDispatch(const uint8_t* p, size_t n, size_t rs, const Instr& in, void* scratch, uint8_t* mask) {
  switch (in.cmp) {
    case Cmp::Lt: CmpLoop<T, Swap, Cmp::Lt>(p, n, rs, in, scratch, mask); break;
    case Cmp::Le: CmpLoop<T, Swap, Cmp::Le>(p, n, rs, in, scratch, mask); break;
    case Cmp::Gt: CmpLoop<T, Swap, Cmp::Gt>(p, n, rs, in, scratch, mask); break;
    case Cmp::Ge: CmpLoop<T, Swap, Cmp::Ge>(p, n, rs, in, scratch, mask); break;
    case Cmp::Eq: CmpLoop<T, Swap, Cmp::Eq>(p, n, rs, in, scratch, mask); break;
    case Cmp::Ne: CmpLoop<T, Swap, Cmp::Ne>(p, n, rs, in, scratch, mask); break;
  }
}

BP_CLONES void FilterCompare(const uint8_t* p, size_t n, size_t rs, const Instr& in, void* scratch, uint8_t* mask) {
#define BP_CALL(T, S) CmpDispatch<T, S>(p, n, rs, in, scratch, mask)
  BP_TYPE_SWITCH(in.field.type, in.field.swap, BP_CALL)
#undef BP_CALL
}

BP_CLONES void MaskAnd(uint8_t* __restrict a, const uint8_t* __restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] &= b[i];
}

BP_CLONES void MaskOr(uint8_t* __restrict a, const uint8_t* __restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] |= b[i];
}

BP_CLONES void MaskNot(uint8_t* __restrict a, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] ^= 1;
}

BP_CLONES size_t MaskCount(const uint8_t* __restrict a, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += a[i];
  return c;
}

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

Cmp ToCmp(Napi::Value v, const std::string& name) {
  static const char* names[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    for (int i = 0; i < 6; i++) {
      if (s == names[i]) return static_cast<Cmp>(i);
    }
  }
  ThrowExpected(v.Env(), name, "one of lt, le, gt, ge, eq, ne", v);
}

std::vector<Instr> ToProgram(Napi::Value v, uint64_t recordSize, size_t* maxDepth) {
  Napi::Env env = v.Env();
  Napi::Array list = ToArray(v, "program");
  const uint32_t n = list.Length();
  if (n == 0) ThrowExpected(env, "program", "non-empty array of instructions", v);
  std::vector<Instr> prog(n);
  size_t depth = 0;
  *maxDepth = 0;
  for (uint32_t i = 0; i < n; i++) {
    std::string name = "program[" + std::to_string(i) + "]";
    Napi::Object o = ToObject(list.Get(i), name);
    Napi::Value opv = o.Get("op");
    std::string op = opv.IsString() ? opv.As<Napi::String>().Utf8Value() : "";
    Instr& in = prog[i];
    size_t pops = 0, pushes = 1;
    if (op == "cmp") {
      in.op = Op::Cmp;
      in.field = ToFieldRef(o, name, recordSize);
      in.cmp = ToCmp(o.Get("cmp"), name + ".cmp");
      if (IsFloatType(in.field.type)) {
        in.fvalue = ToNumber(o.Get("value"), name + ".value");
      } else {
        in.ivalue = ToIntOfType(o.Get("value"), in.field.type, name + ".value");
      }
    } else if (op == "const") {
      in.op = Op::Const;
      in.bvalue = ToBool(o.Get("value"), name + ".value");
    } else if (op == "and" || op == "or") {
      in.op = op == "and" ? Op::And : Op::Or;
      pops = 2;
    } else if (op == "not") {
      in.op = Op::Not;
      pops = 1;
    } else {
      ThrowExpected(env, name + ".op", "one of cmp, const, and, or, not", opv);
    }
    if (depth < pops) {
      ThrowType(env, "Expected " + std::to_string(pops) + " operand(s) on the stack for " + name + " (" + op +
                         ") but found " + std::to_string(depth));
    }
    depth = depth - pops + pushes;
    if (depth > *maxDepth) *maxDepth = depth;
  }
  if (depth != 1) {
    ThrowType(env, "Expected program to leave exactly one value on the stack but it leaves " + std::to_string(depth));
  }
  return prog;
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

}  // namespace

Napi::Value Filter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span span = ToSpan(info);
  size_t maxDepth = 0;
  std::vector<Instr> prog = ToProgram(info[4], span.recordSize, &maxDepth);
  bool wantOutput = ToBool(info[5], "wantOutput");
  Control ctl = ToControl(info[6], "ctl");

  std::vector<uint8_t> masks(maxDepth * kBlock + 64);
  std::vector<uint64_t> scratch(kBlock);
  OutBuf out;
  uint64_t matched = 0;

  if (ctl.Cancelled()) return env.Null();
  bool cancelled = false;
  auto body = [&] {
    const size_t rs = static_cast<size_t>(span.recordSize);
    const uint64_t perProgress = Control::BlockRecords(span.recordSize);
    uint8_t* stack = masks.data();
    for (uint64_t start = 0; start < span.records; start += perProgress) {
      uint64_t n = span.records - start < perProgress ? span.records - start : perProgress;
      for (uint64_t s = 0; s < n; s += kBlock) {
        size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
        const uint8_t* p = span.Record(start + s);
        size_t sp = 0;
        for (const Instr& in : prog) {
          switch (in.op) {
            case Op::Cmp:
              FilterCompare(p + in.field.offset, m, rs, in, scratch.data(), stack + sp * kBlock);
              sp++;
              break;
            case Op::Const:
              std::memset(stack + sp * kBlock, in.bvalue ? 1 : 0, m);
              sp++;
              break;
            case Op::And:
              MaskAnd(stack + (sp - 2) * kBlock, stack + (sp - 1) * kBlock, m);
              sp--;
              break;
            case Op::Or:
              MaskOr(stack + (sp - 2) * kBlock, stack + (sp - 1) * kBlock, m);
              sp--;
              break;
            case Op::Not:
              MaskNot(stack + (sp - 1) * kBlock, m);
              break;
          }
        }
        size_t c = MaskCount(stack, m);
        matched += c;
        if (wantOutput && c != 0) {
          if (!out.Reserve(c * rs)) return;
          out.size += CopyMatches(p, m, rs, stack, out.block.data + out.size);
        }
      }
      ctl.Add(n * span.recordSize);
      if (ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
  };
  Guarded(env, body);
  if (out.failed) throw Napi::Error::New(env, "out of memory for the filter output");
  if (cancelled) return env.Null();

  Napi::Object result = Napi::Object::New(env);
  result.Set("matched", Napi::Number::New(env, static_cast<double>(matched)));
  if (wantOutput) {
    if (out.size == 0) {
      result.Set("out", Napi::Buffer<uint8_t>::New(env, 0));
    } else {
      // The Buffer views the block (no copy); its finalizer returns the block to the pool.
      const size_t size = out.size;
      Block b = out.Release();
      Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
      result.Set("out", Napi::Buffer<uint8_t>::New(env, b.data, size, [b, size](Napi::Env e, uint8_t*) {
                   GiveBack(b);
                   // The C call, status ignored: finalizers also run while a worker's environment is
                   // torn down (process.exit mid-run), where the C++ wrapper would throw and abort.
                   int64_t ignored = 0;
                   napi_adjust_external_memory(e, -static_cast<int64_t>(size), &ignored);
                 }));
    }
  }
  return result;
}

}  // namespace bigproc
