// hist.h — hist(): fixed-width histogram of one numeric field with NumPy's binning rules.
#pragma once

#include <napi.h>

namespace bigproc {

/** hist(mapping, byteOffset, records, recordSize, field, lo, hi, bins, ctl) → {counts, below, above, nan} or null. */
Napi::Value Hist(const Napi::CallbackInfo& info);

}  // namespace bigproc
