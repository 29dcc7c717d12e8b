// project.cc — projection kernel: the selected fields of each (matching) record as a CSV line, an
// NDJSON object or a packed binary record, appended to a per-thread buffer reused across calls and
// copied once into the ArrayBuffer handed to JavaScript. `columns` is the transpose of `bin`: every
// field's bytes for all matching records, field after field; each column is written into its own
// region of the buffer (sized for every record matching) and the regions are packed in the final copy.
//
// Number text is JavaScript's: integers in exact decimal; doubles (f32 widened) as
// Number.prototype.toString writes them — std::to_chars gives the shortest round-trip digits and
// exponent, laid out here with ECMAScript's Number::toString rules (fixed for 1e-7 < |x| < 1e21,
// otherwise d.ddde±n), -0 as "0", NaN / Infinity / -Infinity (quoted in NDJSON).
#include "project.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"
#include "predicate.h"

namespace bigproc {

namespace {

enum class Format : uint8_t { Csv, Ndjson, Bin, Columns };

constexpr uint8_t kBytesKind = 255;

using WriteFn = char* (*)(char* o, const uint8_t* p, uint32_t size);

constexpr size_t kPrefixMax = 16;
// Slack after the bound on a line's length: whole-prefix copies may write up to kPrefixMax bytes.
constexpr size_t kSlack = 64;

struct FieldFmt {
  uint32_t offset = 0;
  uint32_t size = 0;
  uint8_t kind = 0;  // a NumType, or kBytesKind
  bool swap = false;
  std::string prefix;
  // A short prefix padded to kPrefixMax bytes, copied whole (the cursor then advances by its length).
  char prefixBuf[kPrefixMax] = {};
  WriteFn write = nullptr;
};

struct Run {
  uint32_t offset;
  uint32_t size;
};

// The output buffer: malloc'd, grown by realloc, kept per thread so later chunks reuse warm pages.
struct Scratch {
  uint8_t* data = nullptr;
  size_t capacity = 0;
  ~Scratch() { std::free(data); }
};
thread_local Scratch t_scratch;
constexpr size_t kKeepBytes = size_t{256} << 20;

bool Ensure(size_t need) {
  if (need <= t_scratch.capacity) return true;
  size_t want = t_scratch.capacity == 0 ? (size_t{4} << 20) : t_scratch.capacity * 2;
  if (want < need) want = need;
  void* p = std::realloc(t_scratch.data, want);
  if (p == nullptr) return false;
  t_scratch.data = static_cast<uint8_t*>(p);
  t_scratch.capacity = want;
  return true;
}

const char kHex[] = "0123456789abcdef";

// "00" "01" … "99"
struct Digits2 {
  char d[200];
  constexpr Digits2() : d() {
    for (int i = 0; i < 100; i++) {
      d[2 * i] = static_cast<char>('0' + i / 10);
      d[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
  }
};
constexpr Digits2 kDigits2;

/** Exactly 8 digits of x < 10^8, leading zeros included (two independent halves). */
BP_INLINE void Write8(char* p, uint32_t x) {
  const uint32_t a = x / 10000, b = x % 10000;
  std::memcpy(p, kDigits2.d + 2 * (a / 100), 2);
  std::memcpy(p + 2, kDigits2.d + 2 * (a % 100), 2);
  std::memcpy(p + 4, kDigits2.d + 2 * (b / 100), 2);
  std::memcpy(p + 6, kDigits2.d + 2 * (b % 100), 2);
}

/** Decimal digits of v: 8-digit groups keep the division chains short (a 19-digit value is 3 groups). */
BP_INLINE char* WriteU64(char* o, uint64_t v) {
  if (v < 100000000u) return std::to_chars(o, o + 8, static_cast<uint32_t>(v)).ptr;
  if (v < 10000000000000000u) {
    const uint64_t hi = v / 100000000u;
    o = std::to_chars(o, o + 8, static_cast<uint32_t>(hi)).ptr;
    Write8(o, static_cast<uint32_t>(v - hi * 100000000u));
    return o + 8;
  }
  const uint64_t top = v / 10000000000000000u;
  const uint64_t rest = v - top * 10000000000000000u;
  const uint64_t mid = rest / 100000000u;
  o = std::to_chars(o, o + 4, static_cast<uint32_t>(top)).ptr;
  Write8(o, static_cast<uint32_t>(mid));
  Write8(o + 8, static_cast<uint32_t>(rest - mid * 100000000u));
  return o + 16;
}

BP_INLINE char* Put(char* o, const char* s, size_t n) {
  std::memcpy(o, s, n);
  return o + n;
}

template <typename T, bool Swap, bool Quote>
char* WriteNumber(char* o, const uint8_t* p, uint32_t) {
  const T v = Load<T, Swap>(p);
  if constexpr (std::is_floating_point_v<T>) {
    const double d = static_cast<double>(v);
    if (Quote && !std::isfinite(d)) {
      *o++ = '"';
      o = WriteJsDouble(o, d);
      *o++ = '"';
      return o;
    }
    return WriteJsDouble(o, d);
  } else if constexpr (sizeof(T) == 1 && std::is_unsigned_v<T>) {
    // 0..255 without division: up to three digits
    const unsigned x = v;
    if (x >= 100) {
      *o++ = static_cast<char>('0' + x / 100);
      *o++ = static_cast<char>('0' + x / 10 % 10);
    } else if (x >= 10) {
      *o++ = static_cast<char>('0' + x / 10);
    }
    *o++ = static_cast<char>('0' + x % 10);
    return o;
  } else if constexpr (sizeof(T) >= 4) {
    if constexpr (std::is_signed_v<T>) {
      uint64_t u = static_cast<uint64_t>(static_cast<int64_t>(v));
      if (v < 0) {
        *o++ = '-';
        u = 0 - u;
      }
      return WriteU64(o, u);
    } else {
      return WriteU64(o, v);
    }
  } else {
    return std::to_chars(o, o + 24, v).ptr;
  }
}

template <bool Quote>
char* WriteHex(char* o, const uint8_t* p, uint32_t size) {
  if (Quote) *o++ = '"';
  for (uint32_t i = 0; i < size; i++) {
    *o++ = kHex[p[i] >> 4];
    *o++ = kHex[p[i] & 15];
  }
  if (Quote) *o++ = '"';
  return o;
}

template <bool Quote>
WriteFn PickWriter(uint8_t kind, bool swap) {
  if (kind == kBytesKind) return &WriteHex<Quote>;
#define BP_CALL(T, S) return &WriteNumber<T, S, Quote>
  BP_TYPE_SWITCH(static_cast<NumType>(kind), swap, BP_CALL)
#undef BP_CALL
  return nullptr;
}

/** Copy one field of the selected records of a block into its column (a fixed-size copy per value). */
template <size_t N>
BP_INLINE uint8_t* GatherFixed(uint8_t* o, const uint8_t* p, size_t m, size_t rs, const uint8_t* mask) {
  if (mask == nullptr) {
    for (size_t i = 0; i < m; i++, o += N) std::memcpy(o, p + i * rs, N);
  } else {
    for (size_t i = 0; i < m; i++) {
      if (mask[i] == 0) continue;
      std::memcpy(o, p + i * rs, N);
      o += N;
    }
  }
  return o;
}

uint8_t* Gather(uint8_t* o, const uint8_t* p, size_t m, size_t rs, const uint8_t* mask, size_t n) {
  switch (n) {
    case 1: return GatherFixed<1>(o, p, m, rs, mask);
    case 2: return GatherFixed<2>(o, p, m, rs, mask);
    case 4: return GatherFixed<4>(o, p, m, rs, mask);
    case 8: return GatherFixed<8>(o, p, m, rs, mask);
    case 16: return GatherFixed<16>(o, p, m, rs, mask);
    default:
      for (size_t i = 0; i < m; i++) {
        if (mask != nullptr && mask[i] == 0) continue;
        std::memcpy(o, p + i * rs, n);
        o += n;
      }
      return o;
  }
}

std::string PropString(Napi::Object o, const char* key, const std::string& name) {
  return ToString(o.Get(key), name + "." + key);
}

}  // namespace

char* WriteJsDouble(char* o, double v) {
  if (v != v) return Put(o, "NaN", 3);
  if (v == 0) {
    *o++ = '0';
    return o;
  }
  if (v < 0) {
    *o++ = '-';
    v = -v;
  }
  if (std::isinf(v)) return Put(o, "Infinity", 8);
  char buf[40];
  const char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  // buf is d[.ddd]e±xx: the shortest digits s (k of them) and the exponent of the first one.
  char digits[24];
  int k = 0;
  const char* q = buf;
  digits[k++] = *q++;
  if (*q == '.') {
    q++;
    while (*q != 'e') digits[k++] = *q++;
  }
  q++;  // 'e'
  const bool eneg = *q == '-';
  q++;
  int e = 0;
  while (q < end) e = e * 10 + (*q++ - '0');
  if (eneg) e = -e;
  const int n = e + 1;  // ECMAScript's n: value = 0.s × 10^n
  if (k <= n && n <= 21) {
    o = Put(o, digits, static_cast<size_t>(k));
    for (int i = k; i < n; i++) *o++ = '0';
  } else if (0 < n && n <= 21) {
    o = Put(o, digits, static_cast<size_t>(n));
    *o++ = '.';
    o = Put(o, digits + n, static_cast<size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -n; i++) *o++ = '0';
    o = Put(o, digits, static_cast<size_t>(k));
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      o = Put(o, digits + 1, static_cast<size_t>(k - 1));
    }
    *o++ = 'e';
    const int x = n - 1;
    *o++ = x < 0 ? '-' : '+';
    o = std::to_chars(o, o + 8, x < 0 ? -x : x).ptr;
  }
  return o;
}

namespace {

// ----- the three phases ------------------------------------------------------------------------

struct ProjectArgs {
  Span span;
  Format format = Format::Csv;
  bool text = false;     // csv, ndjson
  bool columns = false;  // columns
  std::vector<FieldFmt> fields;
  std::vector<Run> runs;  // bin: adjacent fields copied as one run
  std::string lineEnd;
  size_t maxLine = 0;  // bound on one record's output bytes
  size_t binSize = 0;  // bytes of the selected fields
  Predicate pred;
  std::string header;
  Control ctl;
};

/** The output, in t_scratch: size bytes, or for columns the regions [colStart[j], colEnd[j]). */
struct ProjectOut {
  size_t size = 0;
  uint64_t matched = 0;
  std::vector<size_t> colStart, colEnd;
};

[[noreturn]] void ThrowOutOfMemory() { throw std::runtime_error("out of memory for the project output"); }

Format ParseFormat(Napi::Object spec) {
  std::string fmt = PropString(spec, "format", "spec");
  if (fmt == "csv") return Format::Csv;
  if (fmt == "ndjson") return Format::Ndjson;
  if (fmt == "bin") return Format::Bin;
  if (fmt == "columns") return Format::Columns;
  ThrowExpected(spec.Env(), "spec.format", "one of csv, ndjson, bin, columns", spec.Get("format"));
}

/** spec.fields[i] (and its prefix for text formats) into a FieldFmt. */
FieldFmt ParseField(Napi::Value v, uint32_t i, const ProjectArgs& a, Napi::Array prefixes) {
  const std::string name = "spec.fields[" + std::to_string(i) + "]";
  Napi::Object o = ToObject(v, name);
  FieldFmt f;
  Napi::Value tv = o.Get("type");
  if (tv.IsString() && tv.As<Napi::String>().Utf8Value() == "bytes") {
    f.kind = kBytesKind;
    f.size = static_cast<uint32_t>(ToIndex(o.Get("size"), name + ".size", true));
  } else {
    NumType t = ToNumType(tv, name + ".type");
    f.kind = static_cast<uint8_t>(t);
    f.size = TypeSize(t);
    f.swap = NeedsSwap(OptBool(o, "bigEndian", name, false));
  }
  uint64_t off = ToIndex(o.Get("offset"), name + ".offset");
  if (off + f.size > a.span.recordSize) {
    ThrowExpected(v.Env(), name + ".offset", "offset + size <= recordSize (" + std::to_string(a.span.recordSize) + ")",
                  o.Get("offset"));
  }
  f.offset = static_cast<uint32_t>(off);
  if (a.text) {
    f.prefix = ToString(prefixes.Get(i), "spec.prefixes[" + std::to_string(i) + "]");
    if (f.prefix.size() <= kPrefixMax) std::memcpy(f.prefixBuf, f.prefix.data(), f.prefix.size());
  }
  const bool quote = a.format == Format::Ndjson;
  f.write = quote ? PickWriter<true>(f.kind, f.swap) : PickWriter<false>(f.kind, f.swap);
  return f;
}

/** project(mapping, byteOffset, records, recordSize, spec, program, header, ctl) */
void ParseProject(const Napi::CallbackInfo& info, ProjectArgs* a) {
  Napi::Env env = info.Env();
  a->span = ToSpan(info);
  Napi::Object spec = ToObject(info[4], "spec");
  a->format = ParseFormat(spec);
  a->text = a->format == Format::Csv || a->format == Format::Ndjson;
  a->columns = a->format == Format::Columns;
  Napi::Array list = ToArray(spec.Get("fields"), "spec.fields");
  const uint32_t nf = list.Length();
  if (nf == 0) ThrowExpected(env, "spec.fields", "a non-empty array of fields", list);
  Napi::Array prefixes;
  if (a->text) {
    prefixes = ToArray(spec.Get("prefixes"), "spec.prefixes");
    if (prefixes.Length() != nf) ThrowExpected(env, "spec.prefixes", "one string per field", prefixes);
    a->lineEnd = PropString(spec, "lineEnd", "spec");
  }
  a->maxLine = a->lineEnd.size();
  for (uint32_t i = 0; i < nf; i++) {
    a->fields.push_back(ParseField(list.Get(i), i, *a, prefixes));
    const FieldFmt& f = a->fields.back();
    a->maxLine += f.prefix.size() + (f.kind == kBytesKind ? 2 * size_t{f.size} + 2 : 32);
    a->binSize += f.size;
  }
  for (const FieldFmt& f : a->fields) {
    if (!a->runs.empty() && a->runs.back().offset + a->runs.back().size == f.offset) a->runs.back().size += f.size;
    else a->runs.push_back(Run{f.offset, f.size});
  }
  if (!a->text) a->maxLine = a->binSize;
  a->pred.Parse(info[5], a->span.recordSize, "program");
  a->header = ToString(info[6], "header");
  a->ctl = ToControl(info[7], "ctl");
}

/** The m records at p (those set in mask, when there is one) as text lines at o; returns the end. */
char* WriteLines(const ProjectArgs& a, const uint8_t* p, size_t m, const uint8_t* mask, char* o) {
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  for (size_t i = 0; i < m; i++) {
    if (mask != nullptr && mask[i] == 0) continue;
    const uint8_t* rec = p + i * rs;
    for (const FieldFmt& f : a.fields) {
      if (f.prefix.size() <= kPrefixMax) {
        std::memcpy(o, f.prefixBuf, kPrefixMax);
        o += f.prefix.size();
      } else {
        o = Put(o, f.prefix.data(), f.prefix.size());
      }
      o = f.write(o, rec + f.offset, f.size);
    }
    o = Put(o, a.lineEnd.data(), a.lineEnd.size());
  }
  return o;
}

/** The m records at p (those set in mask) as packed binary records at o; returns the end. */
uint8_t* WritePacked(const ProjectArgs& a, const uint8_t* p, size_t m, const uint8_t* mask, uint8_t* o) {
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  for (size_t i = 0; i < m; i++) {
    if (mask != nullptr && mask[i] == 0) continue;
    const uint8_t* rec = p + i * rs;
    for (const Run& r : a.runs) {
      std::memcpy(o, rec + r.offset, r.size);
      o += r.size;
    }
  }
  return o;
}

/**
 * columns: field j's values start at colStart[j] = header + records × (sizes of the fields before j),
 * room for every record; colEnd[j] is where its next value goes.
 */
void PlaceColumns(const ProjectArgs& a, ProjectOut* out) {
  const size_t records = static_cast<size_t>(a.span.records);
  const size_t room = records * a.binSize;
  if (records != 0 && room / records != a.binSize) ThrowOutOfMemory();
  if (!Ensure(out->size + room + kSlack)) ThrowOutOfMemory();
  size_t at = out->size;
  for (const FieldFmt& f : a.fields) {
    out->colStart.push_back(at);
    out->colEnd.push_back(at);
    at += records * f.size;
  }
}

/** The header, then every selected record's fields, into t_scratch. No N-API. */
Outcome ComputeProject(ProjectArgs& a, ProjectOut* out) {
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  if (!Ensure(a.header.size() + 64)) ThrowOutOfMemory();
  std::memcpy(t_scratch.data, a.header.data(), a.header.size());
  out->size = a.header.size();
  if (a.columns) PlaceColumns(a, out);
  const Span& span = a.span;
  bool failed = false;
  const size_t rs = static_cast<size_t>(span.recordSize);
  auto body = [&](uint64_t start, uint64_t n) {
    for (uint64_t s = 0; s < n; s += kPredBlock) {
      const size_t m = static_cast<size_t>(n - s < kPredBlock ? n - s : kPredBlock);
      const uint8_t* p = span.Record(start + s);
      const uint8_t* mask = nullptr;
      size_t count = m;
      if (a.pred.Active()) mask = a.pred.Eval(p, m, rs, &count);
      if (count == 0) continue;
      if (a.columns) {
        out->matched += count;
        for (size_t j = 0; j < a.fields.size(); j++) {
          const FieldFmt& f = a.fields[j];
          uint8_t* o = Gather(t_scratch.data + out->colEnd[j], p + f.offset, m, rs, mask, f.size);
          out->colEnd[j] = static_cast<size_t>(o - t_scratch.data);
        }
        continue;
      }
      if (!Ensure(out->size + count * a.maxLine + kSlack)) {
        failed = true;
        return false;
      }
      out->matched += count;
      uint8_t* o = t_scratch.data + out->size;
      uint8_t* end = a.text ? reinterpret_cast<uint8_t*>(WriteLines(a, p, m, mask, reinterpret_cast<char*>(o)))
                            : WritePacked(a, p, m, mask, o);
      out->size += static_cast<size_t>(end - o);
    }
    return true;
  };
  const Outcome o = ScanBlocks(span, a.ctl, body);
  if (o == Outcome::FileChanged) return o;
  if (failed) ThrowOutOfMemory();
  if (o == Outcome::Cancelled) return o;
  // columns: each region holds matched × size of the records × size it has room for; packed below.
  for (size_t j = 0; j < out->colStart.size(); j++) out->size += out->colEnd[j] - out->colStart[j];
  return Outcome::Done;
}

/** → {records, out: a Uint8Array owning its ArrayBuffer} (src/ops/project.ts: ProjectNativeResult). */
Napi::Value ConvertProject(Napi::Env env, const ProjectArgs& a, const ProjectOut& out) {
  // napi_create_buffer: a dedicated, uninitialised ArrayBuffer of exactly `size` bytes (no zero fill
  // before the copy), so the worker can transfer it whole.
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, out.size);
  if (a.columns) {
    const size_t head = out.colStart[0];
    if (head != 0) std::memcpy(buf.Data(), t_scratch.data, head);
    size_t at = head;
    for (size_t j = 0; j < out.colStart.size(); j++) {
      const size_t n = out.colEnd[j] - out.colStart[j];
      if (n != 0) std::memcpy(buf.Data() + at, t_scratch.data + out.colStart[j], n);
      at += n;
    }
  } else if (out.size != 0) {
    std::memcpy(buf.Data(), t_scratch.data, out.size);
  }
  if (t_scratch.capacity > kKeepBytes) {
    std::free(t_scratch.data);
    t_scratch.data = nullptr;
    t_scratch.capacity = 0;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("records", Napi::Number::New(env, static_cast<double>(out.matched)));
  result.Set("out", buf);
  return result;
}

/**
 * project(mapping, byteOffset, records, recordSize, spec, program, header, ctl) → {records, out} or null.
 * spec: {format: 'csv'|'ndjson'|'bin'|'columns', fields: [{offset, type (numeric or 'bytes'), size, bigEndian}],
 *        prefixes: [string per field] and lineEnd: string (text formats)}
 * program: a --where program (as for filter), or null for every record.
 * header: a string written before the first record (e.g. the CSV header line), or ''.
 * out: a Uint8Array owning its ArrayBuffer (transferable), header + one line (or packed record) per record;
 *      columns: header + each field's bytes for every matching record, field after field (the transpose of bin).
 */
Napi::Value Project(const Napi::CallbackInfo& info) {
  ProjectArgs args;
  ParseProject(info, &args);
  ProjectOut out;
  if (!Settle(info.Env(), ComputeProject(args, &out))) return info.Env().Null();
  return ConvertProject(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("project", Project);

}  // namespace bigproc
