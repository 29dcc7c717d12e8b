// checksum.h — checksum(): XXH64 (seed 0) or CRC32C (Castagnoli) of a chunk's bytes, no dependencies.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace bigproc {

/** checksum(mapping, byteOffset, records, recordSize, algo: 'xxh64'|'crc32c', ctl) → lowercase hex digest, or null when cancelled. */
Napi::Value Checksum(const Napi::CallbackInfo& info);

/** XXH64 with seed 0 over [p, p+n), one shot. */
uint64_t Xxh64(const uint8_t* p, size_t n);

/** CRC32C update: crc is the finished CRC so far (0 for none); returns the finished CRC of the data appended. */
uint32_t Crc32c(uint32_t crc, const uint8_t* p, size_t n);

}  // namespace bigproc
