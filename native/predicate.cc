// predicate.cc — --where evaluation for kernels that filter as they go (project). The evaluation is
// the one filter.cc uses: each comparison gathers the field into a contiguous column and compares
// the column with the constant (the loop that vectorises), masks are combined with and/or/not.
#include "predicate.h"

#include <cstring>
#include <string>
#include <type_traits>

#include "cpu.h"
#include "load.h"

namespace bigproc {

namespace {

template <PredCmp C, typename T>
BP_INLINE bool Compare(T a, T b) {
  if constexpr (C == PredCmp::Lt) return a < b;
  if constexpr (C == PredCmp::Le) return a <= b;
  if constexpr (C == PredCmp::Gt) return a > b;
  if constexpr (C == PredCmp::Ge) return a >= b;
  if constexpr (C == PredCmp::Eq) return a == b;
  if constexpr (C == PredCmp::Ne) return a != b;
}

template <typename T, bool Swap, PredCmp C>
BP_INLINE void CmpLoop(const uint8_t* p, size_t n, size_t rs, const PredInstr& in, void* scratch,
                       uint8_t* __restrict mask) {
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
BP_INLINE void CmpDispatch(const uint8_t* p, size_t n, size_t rs, const PredInstr& in, void* scratch, uint8_t* mask) {
  switch (in.cmp) {
    case PredCmp::Lt: CmpLoop<T, Swap, PredCmp::Lt>(p, n, rs, in, scratch, mask); break;
    case PredCmp::Le: CmpLoop<T, Swap, PredCmp::Le>(p, n, rs, in, scratch, mask); break;
    case PredCmp::Gt: CmpLoop<T, Swap, PredCmp::Gt>(p, n, rs, in, scratch, mask); break;
    case PredCmp::Ge: CmpLoop<T, Swap, PredCmp::Ge>(p, n, rs, in, scratch, mask); break;
    case PredCmp::Eq: CmpLoop<T, Swap, PredCmp::Eq>(p, n, rs, in, scratch, mask); break;
    case PredCmp::Ne: CmpLoop<T, Swap, PredCmp::Ne>(p, n, rs, in, scratch, mask); break;
  }
}

BP_CLONES void PredCompare(const uint8_t* p, size_t n, size_t rs, const PredInstr& in, void* scratch, uint8_t* mask) {
#define BP_CALL(T, S) CmpDispatch<T, S>(p, n, rs, in, scratch, mask)
  BP_TYPE_SWITCH(in.field.type, in.field.swap, BP_CALL)
#undef BP_CALL
}

BP_CLONES void PredAnd(uint8_t* __restrict a, const uint8_t* __restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] &= b[i];
}

BP_CLONES void PredOr(uint8_t* __restrict a, const uint8_t* __restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] |= b[i];
}

BP_CLONES void PredNot(uint8_t* __restrict a, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] ^= 1;
}

BP_CLONES size_t PredCount(const uint8_t* __restrict a, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += a[i];
  return c;
}

PredCmp ToPredCmp(Napi::Value v, const std::string& name) {
  static const char* names[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    for (int i = 0; i < 6; i++) {
      if (s == names[i]) return static_cast<PredCmp>(i);
    }
  }
  ThrowExpected(v.Env(), name, "one of lt, le, gt, ge, eq, ne", v);
}

}  // namespace

void Predicate::Parse(Napi::Value v, uint64_t recordSize, const std::string& pname) {
  prog_.clear();
  if (v.IsUndefined() || v.IsNull()) return;
  Napi::Env env = v.Env();
  Napi::Array list = ToArray(v, pname);
  const uint32_t n = list.Length();
  if (n == 0) ThrowExpected(env, pname, "non-empty array of instructions", v);
  prog_.resize(n);
  size_t depth = 0, maxDepth = 0;
  for (uint32_t i = 0; i < n; i++) {
    std::string name = pname + "[" + std::to_string(i) + "]";
    Napi::Object o = ToObject(list.Get(i), name);
    Napi::Value opv = o.Get("op");
    std::string op = opv.IsString() ? opv.As<Napi::String>().Utf8Value() : "";
    PredInstr& in = prog_[i];
    size_t pops = 0;
    if (op == "cmp") {
      in.op = PredOp::Cmp;
      in.field = ToFieldRef(o, name, recordSize);
      in.cmp = ToPredCmp(o.Get("cmp"), name + ".cmp");
      if (IsFloatType(in.field.type)) {
        in.fvalue = ToNumber(o.Get("value"), name + ".value");
      } else {
        in.ivalue = ToIntOfType(o.Get("value"), in.field.type, name + ".value");
      }
    } else if (op == "const") {
      in.op = PredOp::Const;
      in.bvalue = ToBool(o.Get("value"), name + ".value");
    } else if (op == "and" || op == "or") {
      in.op = op == "and" ? PredOp::And : PredOp::Or;
      pops = 2;
    } else if (op == "not") {
      in.op = PredOp::Not;
      pops = 1;
    } else {
      ThrowExpected(env, name + ".op", "one of cmp, const, and, or, not", opv);
    }
    if (depth < pops) {
      ThrowType(env, "Expected " + std::to_string(pops) + " operand(s) on the stack for " + name + " (" + op +
                         ") but found " + std::to_string(depth));
    }
    depth = depth - pops + 1;
    if (depth > maxDepth) maxDepth = depth;
  }
  if (depth != 1) {
    ThrowType(env, "Expected " + pname + " to leave exactly one value on the stack but it leaves " + std::to_string(depth));
  }
  stack_.assign(maxDepth * kPredBlock + 64, 0);
  scratch_.assign(kPredBlock, 0);
}

const uint8_t* Predicate::Eval(const uint8_t* p, size_t m, size_t rs, size_t* count) {
  uint8_t* stack = stack_.data();
  size_t sp = 0;
  for (const PredInstr& in : prog_) {
    switch (in.op) {
      case PredOp::Cmp:
        PredCompare(p + in.field.offset, m, rs, in, scratch_.data(), stack + sp * kPredBlock);
        sp++;
        break;
      case PredOp::Const:
        std::memset(stack + sp * kPredBlock, in.bvalue ? 1 : 0, m);
        sp++;
        break;
      case PredOp::And:
        PredAnd(stack + (sp - 2) * kPredBlock, stack + (sp - 1) * kPredBlock, m);
        sp--;
        break;
      case PredOp::Or:
        PredOr(stack + (sp - 2) * kPredBlock, stack + (sp - 1) * kPredBlock, m);
        sp--;
        break;
      case PredOp::Not:
        PredNot(stack + (sp - 1) * kPredBlock, m);
        break;
    }
  }
  *count = PredCount(stack, m);
  return stack;
}

}  // namespace bigproc
