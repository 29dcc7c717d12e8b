// image.h — image(): run an image chain (src/image/steps.ts) over a chunk of frames.
#pragma once

#include <napi.h>

namespace bigproc {

/**
 * image(mapping, byteOffset, records, recordSize, {steps, shapes, reduce, perFrame}, out|null, ctl)
 * → {values: Float64Array} or null when cancelled. Output frames go to `out` in order.
 */
Napi::Value Image(const Napi::CallbackInfo& info);

}  // namespace bigproc
