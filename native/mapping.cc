// mapping.cc — Mapping (open + fstat + mmap of a whole file, views, close) and the SIGBUS guard.
#include "mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <mutex>

#include "args.h"

namespace bigproc {

// ---------------------------------------------------------------------------------------------
// SIGBUS guard
// ---------------------------------------------------------------------------------------------

namespace {

thread_local sigjmp_buf* t_jump = nullptr;
struct sigaction g_previous;
std::once_flag g_installOnce;

void OnSigbus(int sig, siginfo_t* si, void* uctx) {
  sigjmp_buf* jump = t_jump;
  if (jump != nullptr) {
    t_jump = nullptr;
    siglongjmp(*jump, 1);
  }
  // Not ours: hand it to whoever was there before us.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) {
      g_previous.sa_sigaction(sig, si, uctx);
      return;
    }
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: restore it and re-raise (delivered when this handler returns).
  signal(SIGBUS, SIG_DFL);
  raise(SIGBUS);
}

void InstallSigbusHandler() {
  std::call_once(g_installOnce, [] {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous);
  });
}

}  // namespace

bool RunGuarded(void (*fn)(void*), void* ctx) {
  InstallSigbusHandler();
  sigjmp_buf jump;
  sigjmp_buf* const outer = t_jump;
  if (sigsetjmp(jump, 1) != 0) {
    t_jump = outer;
    return false;
  }
  t_jump = &jump;
  try {
    fn(ctx);
  } catch (...) {
    t_jump = outer;
    throw;
  }
  t_jump = outer;
  return true;
}

void ThrowFileChanged(Napi::Env env) {
  Napi::Error err = Napi::Error::New(env, "the file shrank while it was being read");
  err.Set("code", Napi::String::New(env, "EFILECHANGED"));
  throw err;
}

// ---------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------

namespace {

struct AddonData {
  Napi::FunctionReference mappingCtor;
};

double MtimeMs(const struct stat& st) {
  // Same formula as Node's fs.Stats#mtimeMs.
#if defined(__APPLE__)
  return static_cast<double>(st.st_mtimespec.tv_sec) * 1e3 + static_cast<double>(st.st_mtimespec.tv_nsec) / 1e6;
#else
  return static_cast<double>(st.st_mtim.tv_sec) * 1e3 + static_cast<double>(st.st_mtim.tv_nsec) / 1e6;
#endif
}

[[noreturn]] void ThrowSystem(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("errno", Napi::Number::New(env, -err));
  throw e;
}

[[noreturn]] void ThrowClosed(Napi::Env env) {
  Napi::Error e = Napi::Error::New(env, "the mapping is closed");
  e.Set("code", Napi::String::New(env, "ECLOSED"));
  throw e;
}

}  // namespace

void Mapping::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Mapping",
                                    {
                                        InstanceAccessor<&Mapping::GetSize>("size"),
                                        InstanceAccessor<&Mapping::GetMtimeMs>("mtimeMs"),
                                        InstanceMethod<&Mapping::Stat>("stat"),
                                        InstanceMethod<&Mapping::View>("view"),
                                        InstanceMethod<&Mapping::Close>("close"),
                                        InstanceMethod<&Mapping::DropPages>("dropPages"),
                                    });
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData(data);
  }
  data->mappingCtor = Napi::Persistent(ctor);
  exports.Set("Mapping", ctor);
}

Mapping::Mapping(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Mapping>(info) {
  Napi::Env env = info.Env();
  path_ = ToString(info[0], "path");
  std::string what = "cannot map " + path_;
  fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) ThrowSystem(env, what, errno);
  struct stat st;
  if (fstat(fd_, &st) != 0) {
    int err = errno;
    Release();
    ThrowSystem(env, what, err);
  }
  if (S_ISDIR(st.st_mode)) {
    Release();
    ThrowSystem(env, what, EISDIR);
  }
  size_ = static_cast<uint64_t>(st.st_size);
  mtimeMs_ = MtimeMs(st);
  if (size_ > 0) {
    void* p = mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      Release();
      ThrowSystem(env, what, err);
    }
    data_ = static_cast<uint8_t*>(p);
    madvise(p, static_cast<size_t>(size_), MADV_SEQUENTIAL);
  }
}

Mapping::~Mapping() { Release(); }

void Mapping::Release() {
  if (data_ != nullptr) {
    munmap(data_, static_cast<size_t>(size_));
    data_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  closed_ = true;
}

Mapping* Mapping::From(Napi::Value v, const std::string& name) {
  Napi::Env env = v.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  if (!v.IsObject() || data == nullptr || !v.As<Napi::Object>().InstanceOf(data->mappingCtor.Value())) {
    ThrowExpected(env, name, "Mapping", v);
  }
  return Napi::ObjectWrap<Mapping>::Unwrap(v.As<Napi::Object>());
}

Napi::Value Mapping::GetSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(size_));
}

Napi::Value Mapping::GetMtimeMs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), mtimeMs_); }

Napi::Value Mapping::Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) ThrowClosed(env);
  struct stat st;
  if (fstat(fd_, &st) != 0) ThrowSystem(env, "cannot stat " + path_, errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  out.Set("mtimeMs", Napi::Number::New(env, MtimeMs(st)));
  return out;
}

Napi::Value Mapping::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) ThrowClosed(env);
  uint64_t offset = ToIndex(info[0], "offset");
  uint64_t length = ToIndex(info[1], "length");
  if (offset > size_ || length > size_ - offset) {
    ThrowType(env, "Expected offset + length <= " + std::to_string(size_) + " (the mapping size) but received " +
                       std::to_string(offset) + " + " + std::to_string(length));
  }
  Napi::ArrayBuffer ab;
  if (length == 0) {
    ab = Napi::ArrayBuffer::New(env, 0);
  } else {
    // No copy, no finalizer: the memory belongs to the mapping. The view keeps the Mapping object
    // reachable (hidden property), but close() still unmaps it: don't touch views after close().
    ab = Napi::ArrayBuffer::New(env, data_ + offset, static_cast<size_t>(length));
    ab.DefineProperty(Napi::PropertyDescriptor::Value("__bigprocMapping", Value(), napi_default));
  }
  return ab;
}

// A chunk that has been read leaves its page-table entries behind: for a 100 GB file that is tens of
// millions of entries per worker, all torn down at exit (hundreds of ms, serially). Dropping them as
// chunks finish spreads that cost over the run, on the worker threads. The data stays in the page
// cache (the mapping is MAP_SHARED), so a later touch of the range just faults it back in. Only the
// pages wholly inside [offset, offset + length) are dropped.
Napi::Value Mapping::DropPages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) ThrowClosed(env);
  uint64_t offset = ToIndex(info[0], "offset");
  uint64_t length = ToIndex(info[1], "length");
  if (offset > size_ || length > size_ - offset) length = offset > size_ ? 0 : size_ - offset;
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t from = (offset + page - 1) / page * page;
  uint64_t to = (offset + length) / page * page;
  if (data_ != nullptr && to > from) madvise(data_ + from, static_cast<size_t>(to - from), MADV_DONTNEED);
  return env.Undefined();
}

Napi::Value Mapping::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Span ToSpan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // The source is a Mapping, or any typed array (e.g. a Uint8Array over a SharedArrayBuffer that
  // holds a block read from a pipe): the kernels only need a base pointer and a size.
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  if (info[0].IsTypedArray()) {
    // napi_get_typedarray_info gives the data pointer also for SharedArrayBuffer-backed arrays,
    // whose buffer napi_get_arraybuffer_info rejects.
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    void* p = nullptr;
    size_t length = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, ta, nullptr, &length, &p, nullptr, nullptr), Span());
    data = static_cast<const uint8_t*>(p);
    size = static_cast<uint64_t>(length) * ta.ElementSize();
  }
  uint64_t byteOffset = ToIndex(info[1], "byteOffset");
  uint64_t records = ToIndex(info[2], "records");
  uint64_t recordSize = ToIndex(info[3], "recordSize", true);
  if (!info[0].IsTypedArray()) {
    Mapping* m = Mapping::From(info[0], "mapping");
    if (m->Closed()) ThrowClosed(env);
    data = m->Data();
    size = m->Size();
  }
  if (byteOffset > size || records > (size - byteOffset) / recordSize) {
    ThrowType(env, "Expected byteOffset + records * recordSize <= " + std::to_string(size) +
                       " (the mapping size) but received " + std::to_string(byteOffset) + " + " +
                       std::to_string(records) + " * " + std::to_string(recordSize));
  }
  Span s;
  s.records = records;
  s.recordSize = recordSize;
  s.base = records == 0 ? nullptr : data + byteOffset;
  return s;
}

}  // namespace bigproc
