// writeback.cc — startWriteback(): ask the kernel to begin writing a just-written range of an output
// file to its disk now (sync_file_range(SYNC_FILE_RANGE_WRITE): it queues the I/O and returns). Dirty
// pages otherwise wait in the page cache until the final fsync, which --out's atomic rename needs, and
// the run then sits idle while the whole output goes to the disk at the end; started chunk by chunk,
// the disk writes while the kernels compute.
#include <fcntl.h>

#include "kernel.h"
#include "args.h"

namespace bigproc {

/** startWriteback(fd, offset, bytes) → whether the kernel took the request (false: not Linux, or refused). */
Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t fd = ToIndex(info[0], "fd");
  const uint64_t offset = ToIndex(info[1], "offset");
  const uint64_t bytes = ToIndex(info[2], "bytes");
  bool ok = false;
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
  if (fd <= 0x7fffffff && offset <= INT64_MAX && bytes <= INT64_MAX)
    ok = sync_file_range(static_cast<int>(fd), static_cast<off64_t>(offset), static_cast<off64_t>(bytes), SYNC_FILE_RANGE_WRITE) == 0;
#endif
  return Napi::Boolean::New(env, ok);
}

BIGPROC_EXPORT("startWriteback", StartWriteback);

}  // namespace bigproc
