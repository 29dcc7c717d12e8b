// stats.h — stats(): exact per-field count/sum/sum of squares/min/max over a span of records.
#pragma once

#include <napi.h>

namespace bigproc {

/** stats(mapping, byteOffset, records, recordSize, fields[], ctl) → per-field partials, or null if cancelled. */
Napi::Value Stats(const Napi::CallbackInfo& info);

}  // namespace bigproc
