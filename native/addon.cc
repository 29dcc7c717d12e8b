// addon.cc — module entry point: registers the exported functions and the Mapping class, nothing else.
#include <napi.h>

#include <exception>

#include "baseline.h"
#include "checksum.h"
#include "cpu.h"
#include "filter.h"
#include "gen.h"
#include "hist.h"
#include "image.h"
#include "mapping.h"
#include "pipe.h"
#include "stats.h"
#include "sample.h"
#include "project.h"
#include "top.h"
#include "groupby.h"

namespace bigproc {

namespace {

/**
 * The C callback for a kernel. node-addon-api's own wrapper rethrows when napi_throw fails, which
 * happens while a worker's environment is torn down (process.exit with a kernel mid-call, e.g. on
 * EPIPE): the exception would escape into C and abort the process. Here every failure is swallowed
 * once it can no longer be reported.
 */
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
napi_value SafeCall(napi_env env, napi_callback_info cbinfo) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return Fn(info);
  } catch (const Napi::Error& e) {
    try {
      napi_throw(env, e.Value());
    } catch (...) {
    }
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (...) {
    napi_throw_error(env, nullptr, "unknown native error");
  }
  return nullptr;
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, SafeCall<Fn>, nullptr, &fn));
  exports.Set(name, Napi::Value(env, fn));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Export<CpuInfo>(env, exports, "cpuInfo");
  Mapping::Init(env, exports);
  Export<Stats>(env, exports, "stats");
  Export<Hist>(env, exports, "hist");
  Export<Filter>(env, exports, "filter");
  Export<Checksum>(env, exports, "checksum");
  Export<Gen>(env, exports, "gen");
  Export<ReadBaseline>(env, exports, "readBaseline");
  Export<Top>(env, exports, "top");
  Export<Sample>(env, exports, "sample");
  Export<Project>(env, exports, "project");
  Export<Groupby>(env, exports, "groupby");
  Export<SetPipeSize>(env, exports, "setPipeSize");
  Export<Image>(env, exports, "image");
  return exports;
}

}  // namespace bigproc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return bigproc::Init(env, exports); }

NODE_API_MODULE(bigproc, InitModule)
