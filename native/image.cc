// image.cc — image(): decode the chain into plain structs (checking every shape, so no kernel can
// write past a buffer), run it frame by frame with buffers allocated once per call, return the reduce
// values. The kernels themselves are in image_kernels.cc.
#include "image.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "args.h"
#include "control.h"
#include "image_kernels.h"
#include "kernel.h"
#include "mapping.h"

namespace bigproc {

namespace {

enum class Kind { Grey, Lut, Blur, Convolve, Sobel, Downscale, Crop };

struct Step {
  Kind kind = Kind::Grey;
  FrameShape in, out;
  uint8_t table[256] = {};
  bool keepAlpha = false;
  std::vector<int16_t> taps;  // blur: V_0…V_radius
  size_t radius = 0;
  bool sums = false;  // blur: rounding per sum
  ConvolveParams conv;
  std::vector<int32_t> ikernel;
  std::vector<float> fkernel;
  size_t factor = 1, x = 0, y = 0;
};

enum class Reduce { None, FrameStats, Histogram };

struct Chain {
  std::vector<Step> steps;
  std::vector<FrameShape> shapes;
  Reduce reduce = Reduce::None;
  bool perFrame = false;
};

FrameShape ToShape(Napi::Value v, const std::string& name) {
  Napi::Object o = ToObject(v, name);
  FrameShape s{ToIndex(o.Get("width"), name + ".width", true), ToIndex(o.Get("height"), name + ".height", true),
               ToIndex(o.Get("channels"), name + ".channels", true)};
  if (s.channels != 1 && s.channels != 3 && s.channels != 4) ThrowExpected(v.Env(), name + ".channels", "1, 3 or 4", o.Get("channels"));
  if (s.Bytes() > (size_t{1} << 31)) ThrowExpected(v.Env(), name, "a frame of at most 2 GiB", v);
  return s;
}

void ParseConvolve(Napi::Object o, Step& st, const std::string& name) {
  Napi::Env env = o.Env();
  size_t size = ToIndex(o.Get("size"), name + ".size", true);
  if (size != 3 && size != 5) ThrowExpected(env, name + ".size", "3 or 5", o.Get("size"));
  Napi::Array k = ToArray(o.Get("kernel"), name + ".kernel");
  if (k.Length() != size * size) ThrowExpected(env, name + ".kernel", "size² coefficients", k);
  ConvolveParams& p = st.conv;
  p.size = size;
  p.integer = ToBool(o.Get("integer"), name + ".integer");
  double divisor = ToFiniteNumber(o.Get("divisor"), name + ".divisor");
  double offset = ToFiniteNumber(o.Get("offset"), name + ".offset");
  if (divisor == 0) ThrowExpected(env, name + ".divisor", "a divisor other than 0", o.Get("divisor"));
  double absSum = 0;
  for (uint32_t i = 0; i < k.Length(); i++) {
    double v = ToFiniteNumber(k.Get(i), name + ".kernel");
    if (p.integer && (v != std::trunc(v) || std::fabs(v) > 65536)) ThrowExpected(env, name + ".kernel", "integers of at most 65536 in size", k);
    absSum += std::fabs(v);
    st.ikernel.push_back(p.integer ? static_cast<int32_t>(v) : 0);
    st.fkernel.push_back(static_cast<float>(v));
  }
  p.fdivisor = static_cast<float>(divisor);
  p.foffset = static_cast<float>(offset);
  if (!p.integer) return;
  if (divisor != std::trunc(divisor) || std::fabs(divisor) > 1073741824.0 || offset != std::trunc(offset) || std::fabs(offset) > 65535) {
    ThrowExpected(env, name, "an integer divisor (at most 2^30) and offset (at most 65535)", o);
  }
  p.sign = divisor < 0 ? -1 : 1;
  p.divisor = static_cast<int64_t>(std::fabs(divisor));
  p.offset = static_cast<int64_t>(offset);
  // A shift replaces the division when 2D is a power of two and every intermediate fits an int32.
  const double bound = 2 * (absSum * 255 + std::fabs(offset) * static_cast<double>(p.divisor)) + static_cast<double>(p.divisor);
  const int64_t m = 2 * p.divisor;
  p.narrow = bound < 2147483647.0 && (m & (m - 1)) == 0;
  while (p.narrow && (int64_t{1} << p.shift) < m) p.shift++;
  p.bound16 = p.narrow && bound < 32767.0;
}

/** The blur's definition as src/image/chain.ts computed it: radius, taps (sum 2^14) and rounding. */
void ParseBlur(Napi::Object o, Step& st, const std::string& name) {
  Napi::Env env = o.Env();
  st.radius = ToIndex(o.Get("radius"), name + ".radius", true);
  Napi::Array t = ToArray(o.Get("taps"), name + ".taps");
  if (t.Length() != st.radius + 1) ThrowExpected(env, name + ".taps", "radius + 1 taps", t);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < t.Length(); i++) {
    const uint64_t v = ToIndex(t.Get(i), name + ".taps");
    if (v > 16384) ThrowExpected(env, name + ".taps", "taps from 0 to 16384", t);
    sum += v;
    st.taps.push_back(static_cast<int16_t>(v));
  }
  if (sum != 16384) ThrowExpected(env, name + ".taps", "taps summing to 16384", t);
  const std::string rounding = ToString(o.Get("rounding"), name + ".rounding");
  if (rounding != "term" && rounding != "sum") ThrowExpected(env, name + ".rounding", "term or sum", o.Get("rounding"));
  st.sums = rounding == "sum";
  // per term, the second pass's pair sums reach 2·(255·2^6 + (radius + 1)/2): they must fit an int16
  if (!st.sums && st.radius > 48) ThrowExpected(env, name + ".rounding", "sum for a radius above 48", o.Get("rounding"));
}

/** The shape a step must produce from `in`, checked against what the chain says. */
void ParseStep(Napi::Object o, Step& st, const std::string& name) {
  Napi::Env env = o.Env();
  std::string op = ToString(o.Get("op"), name + ".op");
  FrameShape want = st.in;
  if (op == "grey") {
    st.kind = Kind::Grey;
    want.channels = 1;
  } else if (op == "lut") {
    st.kind = Kind::Lut;
    Napi::Array t = ToArray(o.Get("table"), name + ".table");
    if (t.Length() != 256) ThrowExpected(env, name + ".table", "256 entries", t);
    for (uint32_t i = 0; i < 256; i++) {
      uint64_t v = ToIndex(t.Get(i), name + ".table");
      if (v > 255) ThrowExpected(env, name + ".table", "values from 0 to 255", t);
      st.table[i] = static_cast<uint8_t>(v);
    }
    st.keepAlpha = ToBool(o.Get("keepAlpha"), name + ".keepAlpha");
  } else if (op == "blur") {
    st.kind = Kind::Blur;
    ParseBlur(o, st, name);
  } else if (op == "convolve") {
    st.kind = Kind::Convolve;
    ParseConvolve(o, st, name);
  } else if (op == "sobel") {
    st.kind = Kind::Sobel;
  } else if (op == "downscale") {
    st.kind = Kind::Downscale;
    st.factor = ToIndex(o.Get("factor"), name + ".factor", true);
    want.width /= st.factor;
    want.height /= st.factor;
  } else if (op == "crop") {
    st.kind = Kind::Crop;
    st.x = ToIndex(o.Get("x"), name + ".x");
    st.y = ToIndex(o.Get("y"), name + ".y");
    want.width = ToIndex(o.Get("width"), name + ".width", true);
    want.height = ToIndex(o.Get("height"), name + ".height", true);
    if (st.x + want.width > st.in.width || st.y + want.height > st.in.height) ThrowExpected(env, name, "a rectangle inside the frame", o);
  } else {
    ThrowExpected(env, name + ".op", "grey, lut, blur, convolve, sobel, downscale or crop", o.Get("op"));
  }
  if (want.width != st.out.width || want.height != st.out.height || want.channels != st.out.channels || want.Bytes() == 0) {
    ThrowExpected(env, name, "a step whose output matches the next shape", o);
  }
}

Chain ParseChain(Napi::Value v, uint64_t recordSize) {
  Napi::Env env = v.Env();
  Napi::Object o = ToObject(v, "spec");
  Napi::Array steps = ToArray(o.Get("steps"), "spec.steps");
  Napi::Array shapes = ToArray(o.Get("shapes"), "spec.shapes");
  if (shapes.Length() != steps.Length() + 1) ThrowExpected(env, "spec.shapes", "one shape more than steps", shapes);
  Chain chain;
  for (uint32_t i = 0; i < shapes.Length(); i++) chain.shapes.push_back(ToShape(shapes.Get(i), "spec.shapes[" + std::to_string(i) + "]"));
  if (chain.shapes[0].Bytes() != recordSize) ThrowExpected(env, "spec.shapes[0]", "a frame of recordSize bytes", shapes.Get(0u));
  chain.steps.resize(steps.Length());
  for (uint32_t i = 0; i < steps.Length(); i++) {
    Step& st = chain.steps[i];
    st.in = chain.shapes[i];
    st.out = chain.shapes[i + 1];
    ParseStep(ToObject(steps.Get(i), "spec.steps[" + std::to_string(i) + "]"), st, "spec.steps[" + std::to_string(i) + "]");
    st.conv.ikernel = st.ikernel.data();
    st.conv.fkernel = st.fkernel.data();
  }
  std::string reduce = ToString(o.Get("reduce"), "spec.reduce");
  if (reduce == "framestats") chain.reduce = Reduce::FrameStats;
  else if (reduce == "histogram") chain.reduce = Reduce::Histogram;
  else if (!reduce.empty()) ThrowExpected(env, "spec.reduce", "'', framestats or histogram", o.Get("reduce"));
  chain.perFrame = ToBool(o.Get("perFrame"), "spec.perFrame");
  return chain;
}

}  // namespace

namespace {

/** Every buffer a call needs, sized once for its largest step. */
struct Scratch {
  std::vector<uint8_t> ping, pong, padded;
  std::vector<float> f1;
  std::vector<int32_t> i1, i2;
  std::vector<uint32_t> u1;
  std::vector<uint64_t> hist;
  std::vector<int16_t> ring, blurRow;
  std::vector<const uint8_t*> rowsA, rowsB;

  explicit Scratch(const Chain& chain) {
    size_t frame = 0, row = 0, pad = 0;
    for (const FrameShape& s : chain.shapes) {
      frame = std::max(frame, s.Bytes());
      row = std::max(row, s.Row());
    }
    for (const Step& st : chain.steps) {
      const size_t extra = st.kind == Kind::Blur ? 2 * st.radius : st.kind == Kind::Convolve ? st.conv.size - 1 : st.kind == Kind::Sobel ? 2 : 0;
      const bool direct = st.kind == Kind::Convolve && st.conv.size == 3 && st.conv.integer && st.conv.narrow;  // no padded frame
      if (st.kind == Kind::Convolve && !direct) pad = std::max(pad, (st.in.width + extra) * st.in.channels * st.in.height);
      if (st.kind == Kind::Blur) SizeBlur(st);
    }
    ping.resize(frame);
    pong.resize(frame);
    padded.resize(pad);
    f1.resize(row);
    i1.resize(row);
    i2.resize(row);
    u1.resize(row);
    hist.resize(256 * 4);
  }

  void SizeBlur(const Step& st) {
    const BlurSizes n = BlurScratch(st.in, st.radius, st.sums);
    ring.resize(std::max(ring.size(), n.ring));
    blurRow.resize(std::max(blurRow.size(), n.padded));
    rowsA.resize(std::max(rowsA.size(), st.radius + 1));
    rowsB.resize(std::max(rowsB.size(), st.radius + 1));
  }

  BlurBuffers Blur(const Step& st) {
    return BlurBuffers{st.taps.data(), st.radius, st.sums, BlurScratch(st.in, st.radius, st.sums).strip, ring.data(), blurRow.data(),
                       rowsA.data(), rowsB.data(), i1.data()};
  }
};

void RunStep(const Step& st, const uint8_t* src, uint8_t* dst, Scratch& s) {
  switch (st.kind) {
    case Kind::Grey: GreyFrame(src, dst, st.in); break;
    case Kind::Lut: LutFrame(src, dst, st.in, st.table, st.keepAlpha); break;
    case Kind::Blur:
      BlurFrame(src, dst, st.in, s.Blur(st));
      break;
    case Kind::Convolve: ConvolveFrame(src, dst, st.in, st.conv, s.padded.data(), s.i1.data(), s.f1.data()); break;
    case Kind::Sobel: SobelFrame(src, dst, st.in); break;
    case Kind::Downscale: DownscaleFrame(src, dst, st.in, st.factor, s.u1.data()); break;
    case Kind::Crop: CropFrame(src, dst, st.in, st.x, st.y, st.out.width, st.out.height); break;
  }
}

/**
 * Map a frame's pages in one call (MADV_POPULATE_READ, Linux 5.14+; an error just leaves the faults
 * to happen one by one as before): a 1024×1024 RGBA frame is 1024 pages of the file mapping, and
 * taking them one fault at a time cost as much as the blur itself.
 */
void MapFrame(const uint8_t* p, size_t n) {
#if defined(__linux__)
  const uintptr_t page = 4096, at = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  madvise(reinterpret_cast<void*>(at), reinterpret_cast<uintptr_t>(p) + n - at, 22 /* MADV_POPULATE_READ */);
#endif
}

size_t ValuesPerFrame(const Chain& chain) {
  const size_t c = chain.shapes.back().channels;
  if (chain.reduce == Reduce::FrameStats) return 4 * c;
  if (chain.reduce == Reduce::Histogram && chain.perFrame) return 256 * c;
  return 0;
}

}  // namespace

Napi::Value Image(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span span = ToSpan(info);
  Chain chain = ParseChain(info[4], span.recordSize);
  const FrameShape last = chain.shapes.back();
  uint8_t* out = nullptr;
  if (!info[5].IsNull() && !info[5].IsUndefined()) {
    if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) ThrowExpected(env, "out", "Uint8Array or null", info[5]);
    Napi::Uint8Array o = info[5].As<Napi::Uint8Array>();
    if (o.ElementLength() < span.records * last.Bytes()) ThrowExpected(env, "out", "a Uint8Array of records × output frame bytes", info[5]);
    out = o.Data();
  }
  Control ctl = ToControl(info[6], "ctl");
  Scratch scratch(chain);
  const size_t perFrame = ValuesPerFrame(chain);
  const bool summed = chain.reduce == Reduce::Histogram && !chain.perFrame;
  std::vector<double> values(summed ? 256 * last.channels : perFrame * span.records, 0.0);
  if (ctl.Cancelled()) return env.Null();
  bool cancelled = false;
  auto body = [&] {
    for (uint64_t i = 0; i < span.records; i++) {
      const uint8_t* cur = span.Record(i);
      MapFrame(cur, span.recordSize);
      for (size_t k = 0; k < chain.steps.size(); k++) {
        uint8_t* dst = k + 1 == chain.steps.size() && out ? out + i * last.Bytes() : cur == scratch.ping.data() ? scratch.pong.data() : scratch.ping.data();
        RunStep(chain.steps[k], cur, dst, scratch);
        cur = dst;
      }
      if (chain.steps.empty() && out) std::memcpy(out + i * last.Bytes(), cur, last.Bytes());
      if (chain.reduce == Reduce::FrameStats) FrameStats(cur, last, values.data() + i * perFrame);
      if (chain.reduce == Reduce::Histogram) FrameHistogram(cur, last, values.data() + (summed ? 0 : i * perFrame), scratch.hist.data());
      ctl.Add(span.recordSize);
      if (ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
  };
  if (!Settle(env, RunMapped(body)) || cancelled) return env.Null();
  Napi::Float64Array result = Napi::Float64Array::New(env, values.size());
  if (!values.empty()) std::memcpy(result.Data(), values.data(), values.size() * sizeof(double));
  Napi::Object r = Napi::Object::New(env);
  r.Set("values", result);
  return r;
}

BIGPROC_EXPORT("image", Image);

}  // namespace bigproc
