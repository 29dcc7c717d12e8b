// load.h — numeric field types and unaligned typed loads/stores with an optional byte swap.
//
// Records are arrays-of-structs at arbitrary offsets, so every access goes through memcpy (which the
// compiler turns into a plain unaligned mov) and, for big-endian fields, __builtin_bswap.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu.h"

namespace bigproc {

enum class NumType : uint8_t { I8, U8, I16, U16, I32, U32, I64, U64, F32, F64 };

constexpr int kNumTypes = 10;

inline const char* TypeName(NumType t) {
  static const char* names[] = {"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64"};
  return names[static_cast<int>(t)];
}

inline unsigned TypeSize(NumType t) {
  static const unsigned sizes[] = {1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
  return sizes[static_cast<int>(t)];
}

inline bool IsFloatType(NumType t) { return t == NumType::F32 || t == NumType::F64; }
inline bool IsSignedType(NumType t) {
  return t == NumType::I8 || t == NumType::I16 || t == NumType::I32 || t == NumType::I64;
}

/** Host byte order: a field needs swapping when its byte order differs from the host's. */
inline bool NeedsSwap(bool bigEndian) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return !bigEndian;
#else
  return bigEndian;
#endif
}

template <unsigned N> struct UintOfSize;
template <> struct UintOfSize<1> { using type = uint8_t; };
template <> struct UintOfSize<2> { using type = uint16_t; };
template <> struct UintOfSize<4> { using type = uint32_t; };
template <> struct UintOfSize<8> { using type = uint64_t; };

BP_INLINE uint8_t Bswap(uint8_t v) { return v; }
BP_INLINE uint16_t Bswap(uint16_t v) { return __builtin_bswap16(v); }
BP_INLINE uint32_t Bswap(uint32_t v) { return __builtin_bswap32(v); }
BP_INLINE uint64_t Bswap(uint64_t v) { return __builtin_bswap64(v); }

/** Load a T from p (any alignment), swapping bytes when Swap. */
template <typename T, bool Swap>
BP_INLINE T Load(const uint8_t* p) {
  using U = typename UintOfSize<sizeof(T)>::type;
  U u;
  std::memcpy(&u, p, sizeof u);
  if constexpr (Swap && sizeof(T) > 1) u = Bswap(u);
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

/** Store the low sizeof(U) bytes of an integer bit pattern at p (any alignment), swapped when Swap. */
template <typename U, bool Swap>
BP_INLINE void StoreBits(uint8_t* p, U u) {
  if constexpr (Swap && sizeof(U) > 1) u = Bswap(u);
  std::memcpy(p, &u, sizeof u);
}

template <NumType> struct CType;
template <> struct CType<NumType::I8> { using type = int8_t; };
template <> struct CType<NumType::U8> { using type = uint8_t; };
template <> struct CType<NumType::I16> { using type = int16_t; };
template <> struct CType<NumType::U16> { using type = uint16_t; };
template <> struct CType<NumType::I32> { using type = int32_t; };
template <> struct CType<NumType::U32> { using type = uint32_t; };
template <> struct CType<NumType::I64> { using type = int64_t; };
template <> struct CType<NumType::U64> { using type = uint64_t; };
template <> struct CType<NumType::F32> { using type = float; };
template <> struct CType<NumType::F64> { using type = double; };

BP_INLINE uint64_t BitsOf(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
BP_INLINE double DoubleOf(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

}  // namespace bigproc

/**
 * BP_TYPE_SWITCH(type, swap, CALL) expands CALL(T, Swap) for the matching C type and byte-swap flag.
 * Used inside BP_CLONES wrappers so each clone inlines every instantiation.
 */
#define BP_TYPE_SWITCH(type, swap, CALL)                                           \
  switch (type) {                                                                  \
    case ::bigproc::NumType::I8: CALL(int8_t, false); break;                       \
    case ::bigproc::NumType::U8: CALL(uint8_t, false); break;                      \
    case ::bigproc::NumType::I16: if (swap) { CALL(int16_t, true); } else { CALL(int16_t, false); } break;   \
    case ::bigproc::NumType::U16: if (swap) { CALL(uint16_t, true); } else { CALL(uint16_t, false); } break; \
    case ::bigproc::NumType::I32: if (swap) { CALL(int32_t, true); } else { CALL(int32_t, false); } break;   \
    case ::bigproc::NumType::U32: if (swap) { CALL(uint32_t, true); } else { CALL(uint32_t, false); } break; \
    case ::bigproc::NumType::I64: if (swap) { CALL(int64_t, true); } else { CALL(int64_t, false); } break;   \
    case ::bigproc::NumType::U64: if (swap) { CALL(uint64_t, true); } else { CALL(uint64_t, false); } break; \
    case ::bigproc::NumType::F32: if (swap) { CALL(float, true); } else { CALL(float, false); } break;       \
    case ::bigproc::NumType::F64: if (swap) { CALL(double, true); } else { CALL(double, false); } break;     \
  }
