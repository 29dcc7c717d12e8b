// stderr_mute.cc — muteStderr() / restoreStderr(saved): point file descriptor 2 at /dev/null for a
// moment and back. Dawn (the `webgpu` package) prints warnings of its own straight to fd 2 while it
// looks for an adapter ("Couldn't load Vulkan", "maxDynamicStorageBuffersPerPipelineLayout
// artificially reduced …"); bigproc's stderr carries one line per error, so the WebGPU device mutes
// fd 2 while it opens (nothing else in bigproc writes then). Node has no dup2 of its own.
#include <fcntl.h>
#include <unistd.h>

#include "kernel.h"
#include "args.h"

namespace bigproc {

/** muteStderr() → a descriptor holding the old stderr (for restoreStderr), or -1 when it could not be muted. */
Napi::Value MuteStderr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int saved = dup(2);
  if (saved < 0) return Napi::Number::New(env, -1);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 2) < 0) {
    if (null >= 0) close(null);
    close(saved);
    return Napi::Number::New(env, -1);
  }
  close(null);
  return Napi::Number::New(env, saved);
}

/** restoreStderr(saved): fd 2 back to what muteStderr() kept; a no-op for -1. */
Napi::Value RestoreStderr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t saved = info[0].As<Napi::Number>().Int64Value();
  if (saved >= 0 && saved <= 0x7fffffff) {
    dup2(static_cast<int>(saved), 2);
    close(static_cast<int>(saved));
  }
  return env.Undefined();
}

BIGPROC_EXPORT("muteStderr", MuteStderr);
BIGPROC_EXPORT("restoreStderr", RestoreStderr);

}  // namespace bigproc
