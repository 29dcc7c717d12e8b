// gen.cc — synthetic record generator, bit-identical to the JavaScript twin (same written spec).
//
// For record r and field j: key = seed ^ (r·GOLDEN) ^ ((j+1)·0xBF58476D1CE4E5B9),
// u_k = splitmix64(key + k·GOLDEN), unit_k = (u_k >> 11)·2^-53; all integer arithmetic mod 2^64.
// Per block of records and per field: the u_k are computed into columns (vectorisable), turned into
// values (uniform / normal / seq / const), then stored at the field's offset with its width and byte
// order. Uniform integer draws use an exact multiply-high division (libdivide's u64 algorithm)
// instead of a hardware divide.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernel.h"
#include "args.h"
#include "cpu.h"
#include "load.h"

namespace bigproc {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kFieldMul = 0xBF58476D1CE4E5B9ull;
constexpr size_t kBlock = 1024;

BP_INLINE uint64_t Splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/** (double)(u >> 11) * 2^-53, via exact integer-to-double steps that vectorise without AVX-512DQ. */
BP_INLINE double Unit(uint64_t u) {
  const uint64_t x = u >> 11;  // < 2^53
  // hi·2^32 + lo with both halves converted exactly through the 2^52 magic-number trick.
  const double hi = DoubleOf(0x4330000000000000ull | (x >> 32)) - 4503599627370496.0;         // exact, < 2^21
  const double lo = DoubleOf(0x4330000000000000ull | (x & 0xffffffffull)) - 4503599627370496.0;  // exact, < 2^32
  return (hi * 4294967296.0 + lo) * 0x1.0p-53;  // every step exact: the result has ≤ 53 significant bits
}

enum class Kind : uint8_t { Uniform, Normal, Seq, Const, Bytes };
enum class ModMode : uint8_t { Full, Pow2, Mul, MulAdd };

/** Exact n % d for a fixed d (libdivide u64 algorithm). */
struct FastMod {
  uint64_t d = 0;
  uint64_t magic = 0;
  unsigned shift = 0;
  ModMode mode = ModMode::Full;

  static FastMod For(uint64_t d) {
    FastMod f;
    f.d = d;
    if (d == 0) {
      f.mode = ModMode::Full;
      return f;
    }
    if ((d & (d - 1)) == 0) {
      f.mode = ModMode::Pow2;
      return f;
    }
    const unsigned floorLog2 = 63 - static_cast<unsigned>(__builtin_clzll(d));
    const unsigned __int128 num = static_cast<unsigned __int128>(1) << (64 + floorLog2);
    uint64_t m = static_cast<uint64_t>(num / d);
    const uint64_t rem = static_cast<uint64_t>(num % d);
    const uint64_t e = d - rem;
    if (e < (uint64_t{1} << floorLog2)) {
      f.mode = ModMode::Mul;
    } else {
      m += m;
      const uint64_t twiceRem = rem + rem;
      if (twiceRem >= d || twiceRem < rem) m += 1;
      f.mode = ModMode::MulAdd;
    }
    f.magic = m + 1;
    f.shift = floorLog2;
    return f;
  }
};

template <ModMode M>
BP_INLINE uint64_t Mod(uint64_t n, const FastMod& f) {
  if constexpr (M == ModMode::Full) {
    return n;
  } else if constexpr (M == ModMode::Pow2) {
    return n & (f.d - 1);
  } else {
    const uint64_t q0 = static_cast<uint64_t>((static_cast<unsigned __int128>(f.magic) * n) >> 64);
    uint64_t q;
    if constexpr (M == ModMode::Mul) {
      q = q0 >> f.shift;
    } else {
      q = (((n - q0) >> 1) + q0) >> f.shift;
    }
    return n - q * f.d;
  }
}

struct GenField {
  uint32_t offset = 0;
  uint32_t size = 0;
  bool isBytes = false;
  NumType type = NumType::U8;
  bool swap = false;
  Kind kind = Kind::Const;
  // integer parameters (two's-complement bits)
  uint64_t ilo = 0, istart = 0, istep = 0, iconst = 0;
  FastMod mod;
  // float parameters
  double flo = 0, fhi = 0, mean = 0, sd = 0, fstart = 0, fstep = 0, fconst = 0;
};

// Columns for one block. The odd padding keeps the arrays at different offsets modulo 4 KiB, so a
// loop reading one column and writing another doesn't stall on 4K aliasing.
struct Scratch {
  uint64_t u[4][kBlock + 72];
  uint64_t v[kBlock + 136];  // integer values (bit patterns)
  double d[kBlock];          // float values
};

// ----- value generation ---------------------------------------------------------------------------

BP_INLINE uint64_t KeyOf(uint64_t seed, uint64_t r, uint64_t jmul) { return seed ^ (r * kGolden) ^ jmul; }

/** u[k][i] = splitmix64(key_i + k·GOLDEN) for k < K. */
template <int K>
BP_INLINE void Draw(uint64_t seed, uint64_t first, size_t n, uint64_t jmul, Scratch* __restrict s) {
  for (size_t i = 0; i < n; i++) {
    const uint64_t key = KeyOf(seed, first + i, jmul);
    s->u[0][i] = Splitmix64(key);
    if constexpr (K > 1) s->u[1][i] = Splitmix64(key + kGolden);
    if constexpr (K > 2) s->u[2][i] = Splitmix64(key + 2 * kGolden);
    if constexpr (K > 3) s->u[3][i] = Splitmix64(key + 3 * kGolden);
  }
}

/** Uniform integers: lo + u_0 mod span, stored straight into the records (width U, byte order Swap). */
template <ModMode M, typename U, bool Swap>
BP_INLINE void UniformIntsStore(uint8_t* out, size_t n, size_t rs, const GenField& f, const Scratch* __restrict s) {
  const FastMod mod = f.mod;
  const uint64_t lo = f.ilo;
  for (size_t i = 0; i < n; i++) StoreBits<U, Swap>(out + i * rs, static_cast<U>(lo + Mod<M>(s->u[0][i], mod)));
}

template <ModMode M>
BP_INLINE void UniformIntsWidth(uint8_t* out, size_t n, size_t rs, const GenField& f, const Scratch* s) {
  const bool sw = f.swap;
  switch (TypeSize(f.type)) {
    case 1: UniformIntsStore<M, uint8_t, false>(out, n, rs, f, s); break;
    case 2: if (sw) UniformIntsStore<M, uint16_t, true>(out, n, rs, f, s); else UniformIntsStore<M, uint16_t, false>(out, n, rs, f, s); break;
    case 4: if (sw) UniformIntsStore<M, uint32_t, true>(out, n, rs, f, s); else UniformIntsStore<M, uint32_t, false>(out, n, rs, f, s); break;
    default: if (sw) UniformIntsStore<M, uint64_t, true>(out, n, rs, f, s); else UniformIntsStore<M, uint64_t, false>(out, n, rs, f, s); break;
  }
}

BP_INLINE double NormalZ(const Scratch* s, size_t i) {
  return (((Unit(s->u[0][i]) + Unit(s->u[1][i])) + Unit(s->u[2][i])) + Unit(s->u[3][i]) - 2.0) * 1.7320508075688772;
}

/** floor(v + 0.5) clamped to the integer type's range, as two's-complement bits. */
BP_INLINE uint64_t RoundClamp(double v, NumType t) {
  v = std::floor(v + 0.5);
  if (v != v) return 0;
  switch (t) {
    case NumType::I64:
      if (v >= 9223372036854775808.0) return static_cast<uint64_t>(INT64_MAX);
      if (v <= -9223372036854775808.0) return static_cast<uint64_t>(INT64_MIN);
      return static_cast<uint64_t>(static_cast<int64_t>(v));
    case NumType::U64:
      if (v >= 18446744073709551616.0) return UINT64_MAX;
      if (v <= 0) return 0;
      return static_cast<uint64_t>(v);
    default: {
      int64_t smin = 0, smax = 0;
      uint64_t umax = 0;
      IntRange(t, &smin, &smax, &umax);
      double mn = IsSignedType(t) ? static_cast<double>(smin) : 0.0;
      double mx = IsSignedType(t) ? static_cast<double>(smax) : static_cast<double>(umax);
      v = v < mn ? mn : (v > mx ? mx : v);
      return static_cast<uint64_t>(static_cast<int64_t>(v));
    }
  }
}

/** Store column values (integer bits in s->v, or doubles in s->d) into the records. */
template <typename U, bool Swap>
BP_INLINE void StoreInts(uint8_t* out, size_t n, size_t rs, const uint64_t* __restrict v) {
  for (size_t i = 0; i < n; i++) StoreBits<U, Swap>(out + i * rs, static_cast<U>(v[i]));
}

template <bool Swap>
BP_INLINE void StoreF32(uint8_t* out, size_t n, size_t rs, const double* __restrict d) {
  for (size_t i = 0; i < n; i++) {
    float f = static_cast<float>(d[i]);
    uint32_t b;
    std::memcpy(&b, &f, 4);
    StoreBits<uint32_t, Swap>(out + i * rs, b);
  }
}

template <bool Swap>
BP_INLINE void StoreF64(uint8_t* out, size_t n, size_t rs, const double* __restrict d) {
  for (size_t i = 0; i < n; i++) StoreBits<uint64_t, Swap>(out + i * rs, BitsOf(d[i]));
}

BP_INLINE void StoreValues(uint8_t* out, size_t n, size_t rs, const GenField& f, const Scratch* s) {
  const bool sw = f.swap;
  switch (f.type) {
    case NumType::I8:
    case NumType::U8: StoreInts<uint8_t, false>(out, n, rs, s->v); break;
    case NumType::I16:
    case NumType::U16: if (sw) StoreInts<uint16_t, true>(out, n, rs, s->v); else StoreInts<uint16_t, false>(out, n, rs, s->v); break;
    case NumType::I32:
    case NumType::U32: if (sw) StoreInts<uint32_t, true>(out, n, rs, s->v); else StoreInts<uint32_t, false>(out, n, rs, s->v); break;
    case NumType::I64:
    case NumType::U64: if (sw) StoreInts<uint64_t, true>(out, n, rs, s->v); else StoreInts<uint64_t, false>(out, n, rs, s->v); break;
    case NumType::F32: if (sw) StoreF32<true>(out, n, rs, s->d); else StoreF32<false>(out, n, rs, s->d); break;
    case NumType::F64: if (sw) StoreF64<true>(out, n, rs, s->d); else StoreF64<false>(out, n, rs, s->d); break;
  }
}

BP_INLINE void GenBytes(uint8_t* out, uint64_t first, size_t n, size_t rs, uint64_t seed, uint64_t jmul, uint32_t size) {
  for (size_t i = 0; i < n; i++) {
    const uint64_t key = KeyOf(seed, first + i, jmul);
    uint8_t* o = out + i * rs;
    uint32_t done = 0;
    for (uint64_t k = 0; done < size; k++) {
      uint64_t u = Splitmix64(key + k * kGolden);
      uint8_t bytes[8];
      for (int b = 0; b < 8; b++) bytes[b] = static_cast<uint8_t>(u >> (8 * b));
      uint32_t take = size - done < 8 ? size - done : 8;
      std::memcpy(o + done, bytes, take);
      done += take;
    }
  }
}

/** One field over one block of records: out points at the field in the block's first record. */
BP_CLONES void GenFieldBlock(uint8_t* out, uint64_t first, size_t n, size_t rs, uint64_t seed, uint64_t jmul,
                             const GenField& f, Scratch* s) {
  if (f.isBytes) {
    GenBytes(out, first, n, rs, seed, jmul, f.size);
    return;
  }
  const bool isFloat = IsFloatType(f.type);
  switch (f.kind) {
    case Kind::Uniform:
      Draw<1>(seed, first, n, jmul, s);
      if (isFloat) {
        const double lo = f.flo, span = f.fhi - f.flo;
        for (size_t i = 0; i < n; i++) s->d[i] = lo + span * Unit(s->u[0][i]);
      } else {
        switch (f.mod.mode) {
          case ModMode::Full: UniformIntsWidth<ModMode::Full>(out, n, rs, f, s); break;
          case ModMode::Pow2: UniformIntsWidth<ModMode::Pow2>(out, n, rs, f, s); break;
          case ModMode::Mul: UniformIntsWidth<ModMode::Mul>(out, n, rs, f, s); break;
          case ModMode::MulAdd: UniformIntsWidth<ModMode::MulAdd>(out, n, rs, f, s); break;
        }
        return;  // already stored
      }
      break;
    case Kind::Normal: {
      Draw<4>(seed, first, n, jmul, s);
      const double mean = f.mean, sd = f.sd;
      for (size_t i = 0; i < n; i++) s->d[i] = mean + sd * NormalZ(s, i);
      if (!isFloat) {
        for (size_t i = 0; i < n; i++) s->v[i] = RoundClamp(s->d[i], f.type);
      }
      break;
    }
    case Kind::Seq:
      if (isFloat) {
        for (size_t i = 0; i < n; i++) s->d[i] = f.fstart + static_cast<double>(first + i) * f.fstep;
      } else {
        for (size_t i = 0; i < n; i++) s->v[i] = f.istart + (first + i) * f.istep;
      }
      break;
    case Kind::Const:
      if (isFloat) {
        for (size_t i = 0; i < n; i++) s->d[i] = f.fconst;
      } else {
        for (size_t i = 0; i < n; i++) s->v[i] = f.iconst;
      }
      break;
    case Kind::Bytes: break;
  }
  StoreValues(out, n, rs, f, s);
}

// ----- arguments ----------------------------------------------------------------------------------

GenField ToGenField(Napi::Value v, const std::string& name, uint64_t recordSize) {
  Napi::Env env = v.Env();
  Napi::Object o = ToObject(v, name);
  GenField f;
  Napi::Value tv = o.Get("type");
  if (tv.IsString() && tv.As<Napi::String>().Utf8Value() == "bytes") {
    f.isBytes = true;
    f.kind = Kind::Bytes;
  } else if (tv.IsString()) {
    f.type = ToNumType(tv, name + ".type");
  } else {
    ThrowExpected(env, name + ".type", "one of i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, bytes", tv);
  }
  uint64_t off = ToIndex(o.Get("offset"), name + ".offset");
  uint64_t size;
  Napi::Value sv = o.Get("size");
  if (f.isBytes) {
    size = ToIndex(sv, name + ".size", true);
  } else {
    size = sv.IsUndefined() ? TypeSize(f.type) : ToIndex(sv, name + ".size", true);
    if (size != TypeSize(f.type)) ThrowExpected(env, name + ".size", std::to_string(TypeSize(f.type)) + " (the size of " + TypeName(f.type) + ")", sv);
  }
  if (off > recordSize || size > recordSize - off) {
    ThrowExpected(env, name + ".offset", "offset + size (" + std::to_string(size) + ") <= recordSize (" + std::to_string(recordSize) + ")", o.Get("offset"));
  }
  f.offset = static_cast<uint32_t>(off);
  f.size = static_cast<uint32_t>(size);
  f.swap = NeedsSwap(OptBool(o, "bigEndian", name, false));
  if (f.isBytes) return f;

  std::string dn = name + ".dist";
  Napi::Object d = ToObject(o.Get("dist"), dn);
  Napi::Value kv = d.Get("kind");
  std::string kind = kv.IsString() ? kv.As<Napi::String>().Utf8Value() : "";
  const bool isFloat = IsFloatType(f.type);
  if (kind == "uniform") {
    f.kind = Kind::Uniform;
    if (isFloat) {
      f.flo = ToNumber(d.Get("lo"), dn + ".lo");
      f.fhi = ToNumber(d.Get("hi"), dn + ".hi");
    } else {
      uint64_t lo = ToIntOfType(d.Get("lo"), f.type, dn + ".lo");
      uint64_t hi = ToIntOfType(d.Get("hi"), f.type, dn + ".hi");
      bool ordered = IsSignedType(f.type) ? static_cast<int64_t>(lo) <= static_cast<int64_t>(hi) : lo <= hi;
      if (!ordered) ThrowExpected(env, dn + ".hi", "integer >= lo (" + d.Get("lo").ToString().Utf8Value() + ")", d.Get("hi"));
      f.ilo = lo;
      f.mod = FastMod::For(hi - lo + 1);
    }
  } else if (kind == "normal") {
    f.kind = Kind::Normal;
    f.mean = ToNumber(d.Get("mean"), dn + ".mean");
    f.sd = ToNumber(d.Get("sd"), dn + ".sd");
  } else if (kind == "seq") {
    f.kind = Kind::Seq;
    if (isFloat) {
      f.fstart = ToNumber(d.Get("start"), dn + ".start");
      f.fstep = ToNumber(d.Get("step"), dn + ".step");
    } else {
      f.istart = ToWrappedU64(d.Get("start"), dn + ".start");
      f.istep = ToWrappedU64(d.Get("step"), dn + ".step");
    }
  } else if (kind == "const") {
    f.kind = Kind::Const;
    if (isFloat) {
      f.fconst = ToNumber(d.Get("value"), dn + ".value");
    } else {
      f.iconst = ToWrappedU64(d.Get("value"), dn + ".value");
    }
  } else {
    ThrowExpected(env, dn + ".kind", "one of uniform, normal, seq, const", kv);
  }
  return f;
}

}  // namespace

/** gen(target, firstRecord, records, recordSize, fields[], seed) fills target[0 .. records*recordSize). */
Napi::Value Gen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value tv = info[0];
  if (!tv.IsTypedArray() || tv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowExpected(env, "target", "Uint8Array", tv);
  }
  Napi::Uint8Array target = tv.As<Napi::Uint8Array>();
  uint64_t first = ToIndex(info[1], "firstRecord");
  uint64_t records = ToIndex(info[2], "records");
  uint64_t recordSize = ToIndex(info[3], "recordSize", true);
  Napi::Array list = ToArray(info[4], "fields");
  uint64_t seed = ToWrappedU64(info[5], "seed");
  if (records > target.ByteLength() / recordSize) {
    ThrowType(env, "Expected target of at least " + std::to_string(records) + " * " + std::to_string(recordSize) +
                       " bytes but received " + std::to_string(target.ByteLength()) + " bytes");
  }
  std::vector<GenField> fields(list.Length());
  for (uint32_t j = 0; j < list.Length(); j++) fields[j] = ToGenField(list.Get(j), "fields[" + std::to_string(j) + "]", recordSize);

  std::vector<Scratch> scratch(1);
  uint8_t* base = target.Data();
  const size_t rs = static_cast<size_t>(recordSize);
  for (uint64_t start = 0; start < records; start += kBlock) {
    size_t n = static_cast<size_t>(records - start < kBlock ? records - start : kBlock);
    uint8_t* block = base + start * rs;
    std::memset(block, 0, n * rs);  // padding is zero
    for (size_t j = 0; j < fields.size(); j++) {
      GenFieldBlock(block + fields[j].offset, first + start, n, rs, seed, (j + 1) * kFieldMul, fields[j], scratch.data());
    }
  }
  return env.Undefined();
}

BIGPROC_EXPORT("gen", Gen);

}  // namespace bigproc
