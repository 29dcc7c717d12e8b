// kernel.h — what every native entry point shares: its place in the addon's one list of exports,
// and the outcome of its compute phase.
//
// An entry point works in three phases, as sharp's stats.cc does: Parse the JS arguments into a plain
// struct (all the N-API reading and every "Expected …" TypeError), Compute on that struct with no
// N-API in sight (so a C++ test can call it), Convert the result back to JS values. Compute reports
// how it ended as an Outcome; Settle() turns that into null (cancelled) or the EFILECHANGED error.
#pragma once

#include <napi.h>

#include <vector>

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

/** The Convert phase's gate: true for Done; false for Cancelled (return null); throws EFILECHANGED. */
inline bool Settle(Napi::Env env, Outcome outcome) {
  if (outcome == Outcome::FileChanged) ThrowFileChanged(env);
  return outcome == Outcome::Done;
}

}  // namespace bigproc
