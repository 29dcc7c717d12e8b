// cpu.cc — cpuInfo(): architecture, detected CPU features, and which kernel clone runs here.
#include "kernel.h"
#include "cpu.h"
#include "image_kernels.h"

#include <cstdlib>

#include <string>
#include <vector>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace bigproc {

static const char* ArchName() {
#if defined(__x86_64__)
  return "x64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "ia32";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

static std::vector<const char*> Features() {
  std::vector<const char*> out;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) out.push_back("sse4.2");
  if (__builtin_cpu_supports("popcnt")) out.push_back("popcnt");
  if (__builtin_cpu_supports("avx")) out.push_back("avx");
  if (__builtin_cpu_supports("avx2")) out.push_back("avx2");
  if (__builtin_cpu_supports("fma")) out.push_back("fma");
  if (__builtin_cpu_supports("bmi2")) out.push_back("bmi2");
  if (__builtin_cpu_supports("avx512f")) out.push_back("avx512f");
  if (__builtin_cpu_supports("avx512bw")) out.push_back("avx512bw");
  if (__builtin_cpu_supports("avx512dq")) out.push_back("avx512dq");
  if (__builtin_cpu_supports("avx512vl")) out.push_back("avx512vl");
  if (__builtin_cpu_supports("avx512vbmi")) out.push_back("avx512vbmi");
#elif defined(__aarch64__)
  out.push_back("neon");
#if defined(__linux__) && defined(HWCAP_SVE)
  if (getauxval(AT_HWCAP) & HWCAP_SVE) out.push_back("sve");
#endif
#endif
  return out;
}

const char* DispatchName() {
#if BP_HAVE_CLONES
  // Same order as the resolver GCC generates for target_clones("avx512f", "avx2", "default").
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("avx2")) return "avx2";
  return "default";
#elif defined(__aarch64__)
  return "neon";
#else
  return "default";
#endif
}

/** The instruction set the SIMD image kernels run (ImageKernelIsa: BIGPROC_IMAGE_ISA may lower it). */
const char* ImageDispatchName() {
  switch (ImageKernelIsa()) {
    case ImageIsa::Avx512Vbmi: return "avx512vbmi";
    case ImageIsa::Avx512: return "avx512bw";
    case ImageIsa::Avx2: return "avx2";
    case ImageIsa::Base: break;
  }
#if defined(__aarch64__)
  return std::getenv("BIGPROC_IMAGE_ISA") == nullptr ? "neon" : "default";
#else
  return "default";
#endif
}

/** cpuInfo() → { arch, features, dispatch, imageDispatch } */
Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("arch", ArchName());
  std::vector<const char*> features = Features();
  Napi::Array list = Napi::Array::New(env, features.size());
  for (size_t i = 0; i < features.size(); i++) list.Set(static_cast<uint32_t>(i), features[i]);
  result.Set("features", list);
  result.Set("dispatch", DispatchName());
  result.Set("imageDispatch", ImageDispatchName());
  return result;
}

BIGPROC_EXPORT("cpuInfo", CpuInfo);

}  // namespace bigproc
