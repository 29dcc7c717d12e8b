// pipe.h — a larger kernel buffer for a pipe bigproc reads records from.
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * setPipeSize(fd, bytes) → the pipe's new capacity in bytes, or -1 where it cannot be changed (not a
 * pipe, over the system's limit for this user, not Linux).
 */
Napi::Value SetPipeSize(const Napi::CallbackInfo& info);

}  // namespace bigproc
