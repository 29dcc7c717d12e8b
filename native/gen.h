// gen.h — gen(): deterministic synthetic records (splitmix64 keyed by seed, record index and field).
#pragma once

#include <napi.h>

namespace bigproc {

/** gen(target, firstRecord, records, recordSize, fields[], seed) fills target[0 .. records*recordSize). */
Napi::Value Gen(const Napi::CallbackInfo& info);

}  // namespace bigproc
