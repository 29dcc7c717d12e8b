// filter.h — filter(): evaluate a postfix predicate program over records; count and optionally copy matches.
#pragma once

#include <napi.h>

namespace bigproc {

/** filter(mapping, byteOffset, records, recordSize, program, wantOutput, ctl) → {matched, out?} or null. */
Napi::Value Filter(const Napi::CallbackInfo& info);

}  // namespace bigproc
