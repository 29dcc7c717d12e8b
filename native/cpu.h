// cpu.h — CPU feature detection and the macros used to build runtime-dispatched kernels.
//
// Hot kernels are plain (non-template) functions marked BP_CLONES. On x86-64 Linux/glibc GCC emits
// an AVX-512F, an AVX2 and a baseline clone of each plus an ifunc resolver that picks one at load
// time. The per-type work lives in BP_INLINE templates so every clone gets its own inlined copy
// compiled for its instruction set. On aarch64 NEON is baseline, so the plain code is used.
#pragma once

#include <cstddef>
#include <napi.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && !defined(BP_NO_CLONES)
#define BP_HAVE_CLONES 1
#define BP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BP_HAVE_CLONES 0
#define BP_CLONES
#endif

#define BP_INLINE inline __attribute__((always_inline))

namespace bigproc {

/** The clone the target_clones resolver picks on this machine: avx512f, avx2, default or neon. */
const char* DispatchName();

}  // namespace bigproc
