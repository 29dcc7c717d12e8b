// addon.cc — module entry point: registers the exported functions and the Mapping class, nothing else.
#include <napi.h>

#include "baseline.h"
#include "cpu.h"
#include "filter.h"
#include "gen.h"
#include "hist.h"
#include "mapping.h"
#include "stats.h"

namespace bigproc {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New<CpuInfo>(env, "cpuInfo"));
  Mapping::Init(env, exports);
  exports.Set("stats", Napi::Function::New<Stats>(env, "stats"));
  exports.Set("hist", Napi::Function::New<Hist>(env, "hist"));
  exports.Set("filter", Napi::Function::New<Filter>(env, "filter"));
  exports.Set("gen", Napi::Function::New<Gen>(env, "gen"));
  exports.Set("readBaseline", Napi::Function::New<ReadBaseline>(env, "readBaseline"));
  return exports;
}

}  // namespace bigproc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return bigproc::Init(env, exports); }

NODE_API_MODULE(bigproc, InitModule)
