// predicate.h — the --where program (postfix cmp / const / and / or / not, as compiled by
// src/ops/predicate.ts), shared by filter and every other kernel that takes a --where: parsed once,
// evaluated per block of up to kPredBlock records into a 0/1 byte mask. Float fields
// compare as doubles, integer fields in their own C type against the range-checked constant.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "args.h"

namespace bigproc {

constexpr size_t kPredBlock = 4096;

enum class PredOp : uint8_t { Cmp, Const, And, Or, Not };
enum class PredCmp : uint8_t { Lt, Le, Gt, Ge, Eq, Ne };

struct PredInstr {
  PredOp op = PredOp::Const;
  FieldRef field;
  PredCmp cmp = PredCmp::Eq;
  uint64_t ivalue = 0;  // integer constant, two's-complement bits
  double fvalue = 0;    // float constant
  bool bvalue = false;  // const
};

class Predicate {
 public:
  /** Parse a program (an array of instructions); undefined or null means "every record matches". */
  void Parse(Napi::Value program, uint64_t recordSize, const std::string& name);
  bool Active() const { return !prog_.empty(); }
  /**
   * Evaluate the m (<= kPredBlock) records starting at p (stride rs); returns the 0/1 mask (valid
   * until the next call) and sets *count to the number of matches. Allocates nothing.
   */
  const uint8_t* Eval(const uint8_t* p, size_t m, size_t rs, size_t* count);

 private:
  std::vector<PredInstr> prog_;
  std::vector<uint8_t> stack_;
  std::vector<uint64_t> scratch_;
};

}  // namespace bigproc
