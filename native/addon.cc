// addon.cc — module entry point: exports the Mapping class and every function in Exports(), the one
// list each entry point joins with BIGPROC_EXPORT (kernel.h) in its own file. Nothing else.
#include <napi.h>

#include <exception>

#include "kernel.h"
#include "mapping.h"

namespace bigproc {

std::vector<Export>& Exports() {
  static std::vector<Export> exports;  // a function-local static: filled before main, in any file order
  return exports;
}

namespace {

/**
 * The C callback of every export (its Export entry is the callback's data). node-addon-api's own
 * wrapper rethrows when napi_throw fails, which happens while a worker's environment is torn down
 * (process.exit with a kernel mid-call, e.g. on EPIPE): the exception would escape into C and abort
 * the process. Here every failure is swallowed once it can no longer be reported.
 */
napi_value SafeCall(napi_env env, napi_callback_info cbinfo) {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return static_cast<const Export*>(info.Data())->fn(info);
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

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Mapping::Init(env, exports);
  for (Export& e : Exports()) {
    napi_value fn;
    NAPI_THROW_IF_FAILED(env, napi_create_function(env, e.name, NAPI_AUTO_LENGTH, SafeCall, &e, &fn), exports);
    exports.Set(e.name, Napi::Value(env, fn));
  }
  return exports;
}

}  // namespace bigproc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return bigproc::Init(env, exports); }

NODE_API_MODULE(bigproc, InitModule)
