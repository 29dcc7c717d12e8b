// bignum.h — fixed-width two's-complement integers (arrays of 64-bit limbs) used to assemble the
// exact float sums in stats, and their conversion to JS BigInt.
#pragma once

#include <napi.h>

#include <cstdint>

#include "cpu.h"

namespace bigproc {

using u128 = unsigned __int128;
using i128 = __int128;

template <int N>
struct BigNum {
  uint64_t w[N] = {};

  /** this += v << shift (mod 2^(64N)). */
  void AddShifted(u128 v, unsigned shift) {
    uint64_t parts[3];
    Split(v, shift % 64, parts);
    unsigned limb = shift / 64;
    unsigned char carry = 0;
    for (unsigned k = 0; limb + k < static_cast<unsigned>(N); k++) {
      uint64_t add = k < 3 ? parts[k] : 0;
      if (k >= 3 && carry == 0) break;
      uint64_t r;
      unsigned char c1 = __builtin_add_overflow(w[limb + k], add, &r);
      unsigned char c2 = __builtin_add_overflow(r, static_cast<uint64_t>(carry), &r);
      w[limb + k] = r;
      carry = c1 | c2;
    }
  }

  /** this -= v << shift (mod 2^(64N)). */
  void SubShifted(u128 v, unsigned shift) {
    uint64_t parts[3];
    Split(v, shift % 64, parts);
    unsigned limb = shift / 64;
    unsigned char borrow = 0;
    for (unsigned k = 0; limb + k < static_cast<unsigned>(N); k++) {
      uint64_t sub = k < 3 ? parts[k] : 0;
      if (k >= 3 && borrow == 0) break;
      uint64_t r;
      unsigned char b1 = __builtin_sub_overflow(w[limb + k], sub, &r);
      unsigned char b2 = __builtin_sub_overflow(r, static_cast<uint64_t>(borrow), &r);
      w[limb + k] = r;
      borrow = b1 | b2;
    }
  }

  void AddSignedShifted(i128 v, unsigned shift) {
    if (v < 0) {
      SubShifted(static_cast<u128>(0) - static_cast<u128>(v), shift);
    } else {
      AddShifted(static_cast<u128>(v), shift);
    }
  }

  bool Negative() const { return (w[N - 1] >> 63) != 0; }

  /** As a JS BigInt; `isSigned` reads the top bit as the sign. */
  Napi::BigInt ToBigInt(Napi::Env env, bool isSigned) const {
    uint64_t mag[N];
    int sign = 0;
    for (int i = 0; i < N; i++) mag[i] = w[i];
    if (isSigned && Negative()) {
      sign = 1;
      unsigned char carry = 1;
      for (int i = 0; i < N; i++) {
        uint64_t r;
        carry = __builtin_add_overflow(~mag[i], static_cast<uint64_t>(carry), &r);
        mag[i] = r;
      }
    }
    int count = N;
    while (count > 0 && mag[count - 1] == 0) count--;
    if (count == 0) return Napi::BigInt::New(env, static_cast<int64_t>(0));
    return Napi::BigInt::New(env, sign, static_cast<size_t>(count), mag);
  }

 private:
  static void Split(u128 v, unsigned bit, uint64_t parts[3]) {
    uint64_t lo = static_cast<uint64_t>(v);
    uint64_t hi = static_cast<uint64_t>(v >> 64);
    if (bit == 0) {
      parts[0] = lo;
      parts[1] = hi;
      parts[2] = 0;
    } else {
      parts[0] = lo << bit;
      parts[1] = (hi << bit) | (lo >> (64 - bit));
      parts[2] = hi >> (64 - bit);
    }
  }
};

/** Exact signed 128-bit value as a BigInt. */
inline Napi::BigInt BigIntFromI128(Napi::Env env, i128 v) {
  BigNum<3> b;
  b.AddSignedShifted(v, 0);
  return b.ToBigInt(env, true);
}

}  // namespace bigproc
