// checksum.h — XXH64 (seed 0) and CRC32C (Castagnoli) in one shot, no N-API (checksum.cc exports
// checksum(), which feeds the same code in progress blocks).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bigproc {

/** XXH64 with seed 0 over [p, p+n), one shot. */
uint64_t Xxh64(const uint8_t* p, size_t n);

/** CRC32C update: crc is the finished CRC so far (0 for none); returns the finished CRC of the data appended. */
uint32_t Crc32c(uint32_t crc, const uint8_t* p, size_t n);

}  // namespace bigproc
