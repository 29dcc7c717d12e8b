// mapping.h — the Mapping class (a read-only mmap of a whole file), the argument parsing every
// kernel shares (mapping, byteOffset, records, recordSize), and the SIGBUS guard that turns a
// file truncated under the mapping into a JS error instead of a crash.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace bigproc {

class Mapping : public Napi::ObjectWrap<Mapping> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Mapping(const Napi::CallbackInfo& info);
  ~Mapping() override;

  /** The instance behind a JS value, or a TypeError when it is not a Mapping. */
  static Mapping* From(Napi::Value v, const std::string& name);

  const uint8_t* Data() const { return data_; }
  uint64_t Size() const { return size_; }
  bool Closed() const { return closed_; }

 private:
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetMtimeMs(const Napi::CallbackInfo& info);
  Napi::Value Stat(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value DropPages(const Napi::CallbackInfo& info);
  void Release();

  std::string path_;
  int fd_ = -1;
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  double mtimeMs_ = 0;
  bool closed_ = false;
};

/** The common leading kernel arguments: (mapping, byteOffset, records, recordSize). */
struct Span {
  const uint8_t* base = nullptr;  // mapping data + byteOffset (null when records == 0)
  uint64_t records = 0;
  uint64_t recordSize = 0;
  uint64_t Bytes() const { return records * recordSize; }
  const uint8_t* Record(uint64_t i) const { return base + i * recordSize; }
};

/** Parse info[0..3] and check byteOffset + records * recordSize <= mapping size. */
Span ToSpan(const Napi::CallbackInfo& info);

/**
 * Run fn(ctx) with SIGBUS trapped on this thread. Returns false when a SIGBUS hit (the file shrank
 * under the mapping); fn was abandoned with siglongjmp, so it must not own anything that needs a
 * destructor — keep state in ctx.
 */
bool RunGuarded(void (*fn)(void*), void* ctx);

/** Error { code: 'EFILECHANGED', message: 'the file shrank while it was being read' }. */
[[noreturn]] void ThrowFileChanged(Napi::Env env);

}  // namespace bigproc
