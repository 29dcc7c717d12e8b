// project.h — the number text project() writes (project.cc exports project(): selected fields of
// records as CSV, NDJSON, packed binary records or binary columns), no N-API.
#pragma once

namespace bigproc {

/** The JavaScript text of a double (Number.prototype.toString); returns the end of what was written (≤ 25 chars). */
char* WriteJsDouble(char* o, double v);

}  // namespace bigproc
