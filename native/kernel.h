// kernel.h — what every native entry point shares: its place in the addon's one list of exports,
// and the outcome of its compute phase.
//
// An entry point works in three phases, as sharp's stats.cc does: Parse the JS arguments into a plain
// struct (all the N-API reading and every "Expected …" TypeError), Compute on that struct with no
// N-API in sight (so a C++ test can call it), Convert the result back to JS values. Compute reports
// how it ended as an Outcome; Settle() turns that into null (cancelled) or the EFILECHANGED error.
#pragma once

#include <napi.h>

#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "control.h"
#include "mapping.h"

namespace bigproc {

using ExportFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct Export {
  const char* name;
  ExportFn fn;
};

/** Every function the addon exports, in registration order: addon.cc exports this list, nothing else. */
std::vector<Export>& Exports();

/** Adds a function to Exports() when the addon is loaded (see BIGPROC_EXPORT). */
struct ExportRegistration {
  ExportRegistration(const char* name, ExportFn fn) { Exports().push_back(Export{name, fn}); }
};

/** Export fn to JavaScript as `name`: one line at the end of the file that defines it. */
#define BIGPROC_EXPORT(name, fn) static const ::bigproc::ExportRegistration bp_export_##fn(name, fn)

/** How a compute phase ended; its result is complete only for Done. */
enum class Outcome { Done, Cancelled, FileChanged };

/**
 * Run f() with SIGBUS trapped (the file shrinking under the mapping): FileChanged when one hit, else
 * Done. f is abandoned with siglongjmp on SIGBUS, so it must not own anything with a destructor.
 */
template <class F>
Outcome RunMapped(F& f) {
  return RunGuarded([](void* c) { (*static_cast<F*>(c))(); }, &f) ? Outcome::Done : Outcome::FileChanged;
}

/** ScanBlocks asks for the progress blocks [i + 8, i + 12) when it reaches block i, i a multiple of 4. */
constexpr uint64_t kReadAheadBlocks = 8;
constexpr uint64_t kReadAheadStep = 4;

/**
 * Cold files: madvise(WILLNEED) the bytes [from, to) of the span, so the kernel starts reading them
 * while this thread computes and the disk stays busy. Only when the range's last page is not in the
 * page cache (mincore, ~1 µs): on a cached file WILLNEED still costs ~20 µs per MiB of page-cache
 * lookups, 10–35% of a kernel's time. On memory that is not a file mapping it does nothing useful and
 * no harm.
 */
inline void ReadAhead(const Span& span, uint64_t from, uint64_t to) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uint64_t bytes = span.Bytes();
  if (to > bytes) to = bytes;
  if (from >= to) return;
  const uintptr_t a = reinterpret_cast<uintptr_t>(span.base + from) & ~(page - 1);
  const uintptr_t b = reinterpret_cast<uintptr_t>(span.base + to);
  unsigned char resident = 0;
  if (mincore(reinterpret_cast<void*>((b - 1) & ~(page - 1)), 1, &resident) == 0 && (resident & 1) != 0) return;
  madvise(reinterpret_cast<void*>(a), b - a, MADV_WILLNEED);
}

/**
 * The loop of every record kernel: body(start, n) for the span's records in progress blocks (about
 * 1 MiB of whole records), under the SIGBUS guard; after each block its bytes are added to the
 * progress counter, and a cancel stops the scan (Cancelled). body returns false to stop early (a limit
 * reached), which counts as Done. body is abandoned on SIGBUS: what it fills must live outside it.
 */
template <class Body>
Outcome ScanBlocks(const Span& span, const Control& ctl, Body& body) {
  bool cancelled = false;
  auto run = [&] {
    const uint64_t per = Control::BlockRecords(span.recordSize);
    const uint64_t blockBytes = per * span.recordSize;
    ReadAhead(span, blockBytes, kReadAheadBlocks * blockBytes);
    uint64_t block = 0;
    for (uint64_t start = 0; start < span.records; start += per, block++) {
      const uint64_t n = span.records - start < per ? span.records - start : per;
      if (block % kReadAheadStep == 0) {
        const uint64_t ahead = (block + kReadAheadBlocks) * blockBytes;
        ReadAhead(span, ahead, ahead + kReadAheadStep * blockBytes);
      }
      if (!body(start, n)) return;
      ctl.Add(n * span.recordSize);
      if (ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
  };
  const Outcome o = RunMapped(run);
  return o == Outcome::Done && cancelled ? Outcome::Cancelled : o;
}

/** The Convert phase's gate: true for Done; false for Cancelled (return null); throws EFILECHANGED. */
inline bool Settle(Napi::Env env, Outcome outcome) {
  if (outcome == Outcome::FileChanged) ThrowFileChanged(env);
  return outcome == Outcome::Done;
}

}  // namespace bigproc
