// hist.cc — histogram kernel.
//
// Per block of 256 values: (1) gather the field into a contiguous column of doubles (a host-order f64
// field with the multiply guess skips this: the bin loop reads the records directly, −17% per record,
// as the loads then overlap the binning), (2) compute every
// value's bin (vectorised: NumPy's guess k = (int)(((x − lo)/(hi − lo))·bins), or the same by one
// multiply where that provably ends in the same bin, then the ±1 correction against the
// edges e[i] = i·step + lo, e[bins] = hi, evaluated on the fly) with three extra slots for NaN /
// below / above, (3) count into several interleaved count arrays (no store-forwarding stalls),
// summed at the end.
#include <cmath>
#include <string>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 256;  // values per gather → bin → count round: small enough that the three phases overlap in the core (4096: ~25% slower)
// Memory safety, not policy (src/ops/hist.ts caps --bins): bin numbers and the three extra slots fit in int32.
constexpr uint32_t kMaxBins = 0x7fffffff - 3;

struct HistParams {
  double lo, hi, span, step, dbins;
  double scale;  // dbins / span: the guess by one multiply (Fast only)
  int32_t bins;
  bool step0;
  bool fast;  // the multiply guess gives NumPy's bins (see FastGuessIsExact)
};

/**
 * Whether the bin guess may be (x − lo)·(bins/span) instead of NumPy's ((x − lo)/span)·bins. After
 * the ±1 correction against the edges e[k] both give the one k with e[k] <= x < e[k+1] whenever the
 * guess is within one bin of it. Each guess is a few roundings (≤ 4·2⁻⁵³ relative, ≤ 2⁻²⁰ of a bin
 * for bins < 2³¹) from (x − lo)/span·bins, and each computed edge is off its exact place by at most
 * ~3·2⁻⁵³·max(|lo|, |hi|), a share max(|lo|, |hi|)·bins/span·3·2⁻⁵³ of a bin. Bounding that share by
 * 2⁻¹³ keeps both guesses well within one bin; past it (a range tiny next to its magnitude, or
 * subnormal steps) the exact NumPy formula runs instead.
 */
bool FastGuessIsExact(const HistParams& h) {
  const double mag = std::fmax(std::fabs(h.lo), std::fabs(h.hi));
  return !h.step0 && std::isfinite(h.scale) && h.scale > 0 && mag * h.dbins < std::ldexp(h.span, 40);
}

template <typename T, bool Swap>
BP_INLINE void GatherDoubles(const uint8_t* p, size_t n, size_t rs, double* __restrict xs) {
  for (size_t i = 0; i < n; i++) xs[i] = static_cast<double>(Load<T, Swap>(p + i * rs));
}

/** Values read from a contiguous column of doubles (after a gather). */
struct ColumnValues {
  const double* __restrict xs;
  BP_INLINE double operator[](size_t i) const { return xs[i]; }
};

/** Host-order f64 values read straight from the records (no column stored and read back). */
struct StridedF64 {
  const uint8_t* p;
  size_t rs;
  BP_INLINE double operator[](size_t i) const { return Load<double, false>(p + i * rs); }
};

template <bool Step0, bool Fast, class Values>
BP_INLINE void BinLoop(Values xs, size_t n, const HistParams& h, int32_t* __restrict out) {
  const double lo = h.lo, hi = h.hi, span = h.span, step = h.step, dbins = h.dbins, scale = h.scale;
  const int32_t bins = h.bins;
  const int32_t last = bins - 1;
  for (size_t i = 0; i < n; i++) {
    const double x = xs[i];
    // Branch-free on purpose: every comparison and every floating-point operation runs for every
    // value (selects are integer arithmetic), so GCC can if-convert and vectorise the loop under
    // the default -ftrapping-math instead of sinking work into branches.
    const int32_t isNan = static_cast<int32_t>(x != x);
    const int32_t below = static_cast<int32_t>(x < lo);
    const int32_t in = static_cast<int32_t>(x >= lo) & static_cast<int32_t>(x <= hi);
    // Out-of-range values (and NaN) are binned as lo and their bin discarded, so the int
    // conversion always sees a value in [0, bins].
    const double xc = in ? x : lo;
    // Fast: one multiply instead of a divide (a divide per value is most of this loop's time).
    const double t = Fast ? (xc - lo) * scale : ((xc - lo) / span) * dbins;
    int32_t k = static_cast<int32_t>(t);
    k = k < last ? k : last;  // k == bins → bins − 1
    // e[k] for k < bins; e[k + 1] only matters when k != bins − 1, so it is never e[bins].
    double ek, ek1;
    if constexpr (Step0) {
      ek = (static_cast<double>(k) / dbins) * span + lo;
      ek1 = (static_cast<double>(k + 1) / dbins) * span + lo;
    } else {
      ek = static_cast<double>(k) * step + lo;
      ek1 = static_cast<double>(k + 1) * step + lo;
    }
    // dec and inc are never both 1 (edges are non-decreasing), so k − dec + inc is NumPy's
    // "if x < e[k]: k −= 1 elif k != bins − 1 and x >= e[k + 1]: k += 1".
    const int32_t dec = static_cast<int32_t>(xc < ek);
    const int32_t inc = static_cast<int32_t>(xc >= ek1) & static_cast<int32_t>(k != last);
    const int32_t kk = k - dec + inc;
    // NaN → bins, below → bins + 1, above → bins + 2 (a NaN is never below).
    const int32_t special = bins + 2 - below - 2 * isNan;
    const int32_t mask = -in;
    out[i] = (kk & mask) | (special & ~mask);
  }
}

BP_CLONES void HistGather(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, double* xs) {
#define BP_CALL(T, S) GatherDoubles<T, S>(p, n, rs, xs)
  BP_TYPE_SWITCH(type, swap, BP_CALL)
#undef BP_CALL
}

BP_CLONES void HistBin(const double* xs, size_t n, const HistParams& h, int32_t* out) {
  const ColumnValues v{xs};
  if (h.step0) {
    BinLoop<true, false>(v, n, h, out);
  } else if (h.fast) {
    BinLoop<false, true>(v, n, h, out);
  } else {
    BinLoop<false, false>(v, n, h, out);
  }
}

/** Gather and bin in one pass, for a host-order f64 field with the multiply guess (the common case). */
BP_CLONES void HistBinF64(const uint8_t* p, size_t n, size_t rs, const HistParams& h, int32_t* out) {
  BinLoop<false, true>(StridedF64{p, rs}, n, h, out);
}

/** counts has `sets` interleaved arrays of `stride` slots; consecutive values go to different sets. */
void HistCount(const int32_t* idx, size_t n, uint32_t* counts, size_t stride, int sets) {
  size_t i = 0;
  if (sets == 4) {
    uint32_t* c0 = counts;
    uint32_t* c1 = counts + stride;
    uint32_t* c2 = counts + 2 * stride;
    uint32_t* c3 = counts + 3 * stride;
    for (; i + 4 <= n; i += 4) {
      c0[idx[i]]++;
      c1[idx[i + 1]]++;
      c2[idx[i + 2]]++;
      c3[idx[i + 3]]++;
    }
  }
  for (; i < n; i++) counts[idx[i]]++;
}

struct HistArgs {
  Span span;
  FieldRef field;
  HistParams h;
  Control ctl;
};

/** NaN, below and above counts follow the bins in one array of totals. */
struct HistOut {
  std::vector<uint64_t> totals;  // bins, then nan, below, above
};

/** hist(mapping, byteOffset, records, recordSize, field, lo, hi, bins, ctl) */
HistArgs ParseHist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HistArgs a;
  a.span = ToSpan(info);
  a.field = ToFieldRef(info[4], "field", a.span.recordSize);
  HistParams& h = a.h;
  h.lo = ToFiniteNumber(info[5], "lo");
  h.hi = ToFiniteNumber(info[6], "hi");
  if (!(h.lo < h.hi)) ThrowExpected(env, "hi", "number greater than lo (" + info[5].ToString().Utf8Value() + ")", info[6]);
  uint64_t bins = ToIndex(info[7], "bins", true);
  if (bins > kMaxBins) ThrowExpected(env, "bins", "integer between 1 and " + std::to_string(kMaxBins), info[7]);
  a.ctl = ToControl(info[8], "ctl");
  h.bins = static_cast<int32_t>(bins);
  h.dbins = static_cast<double>(bins);
  h.span = h.hi - h.lo;
  h.step = h.span / h.dbins;
  h.step0 = h.step == 0;
  h.scale = h.dbins / h.span;
  h.fast = FastGuessIsExact(h);
  return a;
}

/** Count the span's values into bins. No N-API. */
Outcome ComputeHist(const HistArgs& a, HistOut* out) {
  const HistParams& h = a.h;
  const Span& span = a.span;
  const FieldRef& field = a.field;
  const size_t stride = static_cast<size_t>(h.bins) + 3;  // bins, then nan, below, above
  const int sets = stride <= 65536 ? 4 : 1;
  std::vector<uint32_t> counts(stride * sets, 0);
  std::vector<uint64_t>& totals = out->totals;
  totals.assign(stride, 0);
  std::vector<double> xs(kBlock);
  std::vector<int32_t> idx(kBlock);
  auto flush = [&] {
    for (int s = 0; s < sets; s++) {
      uint32_t* c = counts.data() + s * stride;
      for (size_t k = 0; k < stride; k++) {
        totals[k] += c[k];
        c[k] = 0;
      }
    }
  };
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const size_t rs = static_cast<size_t>(span.recordSize);
  const bool direct = field.type == NumType::F64 && !field.swap && h.fast && !h.step0;
  uint64_t sinceFlush = 0;
  auto body = [&](uint64_t start, uint64_t n) {
    for (uint64_t s = 0; s < n; s += kBlock) {
      size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
      if (direct) {
        HistBinF64(span.Record(start + s) + field.offset, m, rs, h, idx.data());
      } else {
        HistGather(span.Record(start + s) + field.offset, m, rs, field.type, field.swap, xs.data());
        HistBin(xs.data(), m, h, idx.data());
      }
      HistCount(idx.data(), m, counts.data(), stride, sets);
    }
    sinceFlush += n;
    if (sinceFlush >= (uint64_t{1} << 31)) {
      flush();
      sinceFlush = 0;
    }
    return true;
  };
  const Outcome o = ScanBlocks(span, a.ctl, body);
  if (o != Outcome::Done) return o;
  flush();
  return Outcome::Done;
}

/** → {counts, below, above, nan} (src/ops/hist.ts: HistPartial). */
Napi::Value ConvertHist(Napi::Env env, const HistArgs& a, const HistOut& out) {
  const uint32_t bins = static_cast<uint32_t>(a.h.bins);
  const std::vector<uint64_t>& totals = out.totals;
  Napi::Object result = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env, bins);
  for (uint32_t k = 0; k < bins; k++) list.Set(k, Napi::Number::New(env, static_cast<double>(totals[k])));
  result.Set("counts", list);
  result.Set("below", Napi::Number::New(env, static_cast<double>(totals[bins + 1])));
  result.Set("above", Napi::Number::New(env, static_cast<double>(totals[bins + 2])));
  result.Set("nan", Napi::Number::New(env, static_cast<double>(totals[bins])));
  return result;
}

/** hist(mapping, byteOffset, records, recordSize, field, lo, hi, bins, ctl) → HistPartial, or null if cancelled. */
Napi::Value Hist(const Napi::CallbackInfo& info) {
  const HistArgs args = ParseHist(info);
  HistOut out;
  if (!Settle(info.Env(), ComputeHist(args, &out))) return info.Env().Null();
  return ConvertHist(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("hist", Hist);

}  // namespace bigproc
