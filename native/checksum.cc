// checksum.cc — XXH64 and CRC32C, implemented here (no dependencies).
//
// XXH64 follows the reference algorithm (seed 0): four lanes over 32-byte stripes, then the tail.
// The stripes are fed in progress blocks of 1 MiB (a multiple of 32), so progress and cancellation
// work without changing the digest. CRC32C (reflected polynomial 0x82F63B78, init and final xor
// 0xFFFFFFFF) uses the SSE4.2 crc32 instruction when the CPU has it (one stream, 8 bytes per
// instruction), the ARMv8 CRC32C instructions on aarch64 built with __ARM_FEATURE_CRC32 (e.g.
// -march=armv8-a+crc), otherwise slicing-by-8 tables.
#include "checksum.h"

#include <cstring>
#include <string>

#include "args.h"
#include "control.h"
#include "kernel.h"
#include "mapping.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_acle.h>
#define BP_ARM_CRC32C 1
#endif

namespace bigproc {

namespace {

constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t P5 = 0x27D4EB2F165667C5ULL;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t Rd64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
inline uint32_t Rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}
inline uint64_t Round(uint64_t acc, uint64_t in) {
  acc += in * P2;
  acc = Rotl(acc, 31);
  return acc * P1;
}
inline uint64_t MergeRound(uint64_t acc, uint64_t v) {
  acc ^= Round(0, v);
  return acc * P1 + P4;
}

struct Xxh64State {
  uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
  /** Consume whole 32-byte stripes of [p, p+n); n must be a multiple of 32. */
  void Stripes(const uint8_t* p, size_t n) {
    uint64_t a = v1, b = v2, c = v3, d = v4;
    for (const uint8_t* e = p + n; p < e; p += 32) {
      a = Round(a, Rd64(p));
      b = Round(b, Rd64(p + 8));
      c = Round(c, Rd64(p + 16));
      d = Round(d, Rd64(p + 24));
    }
    v1 = a, v2 = b, v3 = c, v4 = d;
  }
  /** Finish with the tail (< 32 bytes) given the total length. */
  uint64_t Digest(const uint8_t* p, size_t tail, uint64_t total) const {
    uint64_t h;
    if (total >= 32) {
      h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
      h = MergeRound(h, v1);
      h = MergeRound(h, v2);
      h = MergeRound(h, v3);
      h = MergeRound(h, v4);
    } else {
      h = P5;
    }
    h += total;
    const uint8_t* e = p + tail;
    for (; p + 8 <= e; p += 8) {
      h ^= Round(0, Rd64(p));
      h = Rotl(h, 27) * P1 + P4;
    }
    if (p + 4 <= e) {
      h ^= static_cast<uint64_t>(Rd32(p)) * P1;
      h = Rotl(h, 23) * P2 + P3;
      p += 4;
    }
    for (; p < e; p++) {
      h ^= static_cast<uint64_t>(*p) * P5;
      h = Rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
  }
};

// ---- CRC32C ----

struct Crc32cTables {
  uint32_t t[8][256];
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};
const Crc32cTables& Tables() {
  static const Crc32cTables tables;
  return tables;
}

/** Raw (non-inverted) state update with slicing-by-8. */
uint32_t CrcTable(uint32_t c, const uint8_t* p, size_t n) {
  const auto& t = Tables().t;
  const uint8_t* e = p + n;
  for (; p + 8 <= e; p += 8) {
    uint32_t lo = c ^ Rd32(p);
    uint32_t hi = Rd32(p + 4);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; p < e; p++) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t CrcHw(uint32_t c, const uint8_t* p, size_t n) {
  const uint8_t* e = p + n;
  uint64_t c64 = c;
  for (; p + 8 <= e; p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c64);
  for (; p < e; p++) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}
bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

#if defined(BP_ARM_CRC32C)
uint32_t CrcHw(uint32_t c, const uint8_t* p, size_t n) {
  const uint8_t* e = p + n;
  for (; p + 8 <= e; p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __crc32cd(c, v);
  }
  for (; p < e; p++) c = __crc32cb(c, *p);
  return c;
}
#endif

uint32_t CrcRaw(uint32_t c, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  if (HaveSse42()) return CrcHw(c, p, n);
#elif defined(BP_ARM_CRC32C)
  return CrcHw(c, p, n);
#endif
  return CrcTable(c, p, n);
}

std::string Hex(uint64_t v, int digits) {
  static const char* d = "0123456789abcdef";
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; i--, v >>= 4) s[static_cast<size_t>(i)] = d[v & 15];
  return s;
}

}  // namespace

uint64_t Xxh64(const uint8_t* p, size_t n) {
  Xxh64State s;
  size_t whole = n & ~size_t{31};
  s.Stripes(p, whole);
  return s.Digest(p + whole, n - whole, n);
}

uint32_t Crc32c(uint32_t crc, const uint8_t* p, size_t n) { return ~CrcRaw(~crc, p, n); }

namespace {

struct ChecksumArgs {
  Span span;
  bool xxh = true;  // else crc32c
  Control ctl;
};

/** checksum(mapping, byteOffset, records, recordSize, algo, ctl) */
ChecksumArgs ParseChecksum(const Napi::CallbackInfo& info) {
  ChecksumArgs a;
  a.span = ToSpan(info);
  std::string algo = ToString(info[4], "algo");
  if (algo != "xxh64" && algo != "crc32c") ThrowExpected(info.Env(), "algo", "one of xxh64, crc32c", info[4]);
  a.xxh = algo == "xxh64";
  a.ctl = ToControl(info[5], "ctl");
  return a;
}

/** The digest of the span's bytes as lowercase hex, in blocks that report progress. No N-API. */
Outcome ComputeChecksum(const ChecksumArgs& a, std::string* hex) {
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const bool xxh = a.xxh;
  const uint64_t total = a.span.Bytes();
  const uint8_t* base = a.span.base;
  Xxh64State xs;
  uint32_t crc = 0xFFFFFFFFu;
  uint64_t digest = 0;
  bool cancelled = false;
  auto body = [&] {
    // Blocks of 1 MiB (a multiple of 32): the XXH64 stripes continue across them unchanged.
    uint64_t done = 0;
    const uint64_t whole = xxh ? (total & ~uint64_t{31}) : total;
    while (done < whole) {
      uint64_t n = whole - done < kProgressBlockBytes ? whole - done : kProgressBlockBytes;
      if (xxh) xs.Stripes(base + done, static_cast<size_t>(n));
      else crc = CrcRaw(crc, base + done, static_cast<size_t>(n));
      done += n;
      a.ctl.Add(n);
      if (a.ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
    if (xxh) {
      digest = xs.Digest(base == nullptr ? nullptr : base + whole, static_cast<size_t>(total - whole), total);
      a.ctl.Add(total - whole);
    }
  };
  const Outcome o = RunMapped(body);
  if (o != Outcome::Done) return o;
  if (cancelled) return Outcome::Cancelled;
  *hex = xxh ? Hex(digest, 16) : Hex(~crc, 8);
  return Outcome::Done;
}

/** checksum(mapping, byteOffset, records, recordSize, algo: 'xxh64'|'crc32c', ctl) → lowercase hex digest, or null when cancelled. */
Napi::Value Checksum(const Napi::CallbackInfo& info) {
  const ChecksumArgs args = ParseChecksum(info);
  std::string hex;
  if (!Settle(info.Env(), ComputeChecksum(args, &hex))) return info.Env().Null();
  return Napi::String::New(info.Env(), hex);
}

}  // namespace

BIGPROC_EXPORT("checksum", Checksum);

}  // namespace bigproc
