// 2-D convolutions (NHWC activations, HWIO filters; depthwise as groups = channels) on oneDNN:
// forward, backward data, backward weights. Primitives are cached by shape; the filter is kept in the
// caller's HWIO layout and reordered to/from the format oneDNN prefers when that differs.
#include <memory>

#include "common.h"

namespace netaug {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

enum Dim { N, H, W, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G, NDIMS };

struct Geometry {
  int64_t d[NDIMS];
  bool operator==(const Geometry &o) const {
    for (int i = 0; i < NDIMS; i++)
      if (d[i] != o.d[i]) return false;
    return true;
  }
};

struct GeometryHash {
  size_t operator()(const Geometry &g) const {
    size_t h = 1469598103934665603ull;
    for (int i = 0; i < NDIMS; i++) h = (h ^ static_cast<size_t>(g.d[i])) * 1099511628211ull;
    return h;
  }
};

/** A primitive whose filter may live in another format than the caller's HWIO array. */
template <typename P, typename PD>
struct WithFilter {
  PD pd;
  P prim;
  bool reorderFilter = false;
  dnnl::reorder filterReorder;  // user → internal (fwd, bwd data) or internal → user (bwd weights)
  memory filterMem;             // the internal filter buffer
};

struct ConvEntry {
  memory::desc src, dst, filterUser;
  memory::dims strides, dilates, padL, padR;
  std::unique_ptr<WithFilter<dnnl::convolution_forward, dnnl::convolution_forward::primitive_desc>> fwd;
  std::unique_ptr<WithFilter<dnnl::convolution_backward_data, dnnl::convolution_backward_data::primitive_desc>>
      bwdData;
  std::unique_ptr<
      WithFilter<dnnl::convolution_backward_weights, dnnl::convolution_backward_weights::primitive_desc>>
      bwdWeights;
};

/** Geometries cached (each with up to three primitives and their internal filter buffers). */
LruCache<Geometry, ConvEntry, GeometryHash> cache(2048);

memory::desc filterUserDesc(const Geometry &g) {
  const int64_t *d = g.d;
  if (d[G] == 1) return memory::desc({d[OC], d[IC], d[KH], d[KW]}, dt::f32, tag::hwio);
  // depthwise [KH, KW, C, M]: groups C, M outputs and 1 input per group
  const int64_t M = d[OC] / d[G];
  return memory::desc({d[G], M, 1, d[KH], d[KW]}, dt::f32, {M, 1, 1, d[KW] * d[IC] * M, d[IC] * M});
}

memory::desc filterAnyDesc(const Geometry &g) {
  const int64_t *d = g.d;
  if (d[G] == 1) return memory::desc({d[OC], d[IC], d[KH], d[KW]}, dt::f32, tag::any);
  return memory::desc({d[G], d[OC] / d[G], 1, d[KH], d[KW]}, dt::f32, tag::any);
}

ConvEntry &entryFor(const Geometry &g) {
  if (ConvEntry *hit = cache.find(g)) return *hit;
  const int64_t *d = g.d;
  auto e = std::make_unique<ConvEntry>();
  e->src = memory::desc({d[N], d[IC], d[H], d[W]}, dt::f32, tag::nhwc);
  e->dst = memory::desc({d[N], d[OC], d[OH], d[OW]}, dt::f32, tag::nhwc);
  e->filterUser = filterUserDesc(g);
  e->strides = {d[SH], d[SW]};
  e->dilates = {d[DH] - 1, d[DW] - 1};
  e->padL = {d[PT], d[PL]};
  e->padR = {d[PB], d[PR]};
  return cache.insert(g, std::move(e));
}

template <typename T>
void attachFilter(T &p, const memory::desc &internal, const memory::desc &user, bool toUser) {
  if (internal == user) return;
  p.reorderFilter = true;
  p.filterMem = memory(internal, cpuEngine());
  auto rpd = toUser ? dnnl::reorder::primitive_desc(cpuEngine(), internal, cpuEngine(), user)
                    : dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), internal);
  p.filterReorder = dnnl::reorder(rpd);
}

auto &forward(ConvEntry &e, const Geometry &g) {
  if (!e.fwd) {
    auto p = std::make_unique<std::remove_reference_t<decltype(*e.fwd)>>();
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         e.src, filterAnyDesc(g), e.dst, e.strides, e.dilates, e.padL, e.padR);
    p->pd = dnnl::convolution_forward::primitive_desc(desc, cpuEngine());
    p->prim = dnnl::convolution_forward(p->pd);
    attachFilter(*p, p->pd.weights_desc(), e.filterUser, false);
    e.fwd = std::move(p);
  }
  return *e.fwd;
}

auto &backwardData(ConvEntry &e, const Geometry &g) {
  if (!e.bwdData) {
    auto &f = forward(e, g);
    auto p = std::make_unique<std::remove_reference_t<decltype(*e.bwdData)>>();
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, e.src, filterAnyDesc(g),
                                               e.dst, e.strides, e.dilates, e.padL, e.padR);
    p->pd = dnnl::convolution_backward_data::primitive_desc(desc, cpuEngine(), f.pd);
    p->prim = dnnl::convolution_backward_data(p->pd);
    attachFilter(*p, p->pd.weights_desc(), e.filterUser, false);
    e.bwdData = std::move(p);
  }
  return *e.bwdData;
}

auto &backwardWeights(ConvEntry &e, const Geometry &g) {
  if (!e.bwdWeights) {
    auto &f = forward(e, g);
    auto p = std::make_unique<std::remove_reference_t<decltype(*e.bwdWeights)>>();
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, e.src, filterAnyDesc(g),
                                                  e.dst, e.strides, e.dilates, e.padL, e.padR);
    p->pd = dnnl::convolution_backward_weights::primitive_desc(desc, cpuEngine(), f.pd);
    p->prim = dnnl::convolution_backward_weights(p->pd);
    attachFilter(*p, p->pd.diff_weights_desc(), e.filterUser, true);
    e.bwdWeights = std::move(p);
  }
  return *e.bwdWeights;
}

Geometry readGeometry(const Napi::CallbackInfo &info, size_t i, const char *fn) {
  const int32_t *raw = i32(info, i, NDIMS, fn);
  Geometry g;
  for (int k = 0; k < NDIMS; k++) g.d[k] = raw[k];
  const int64_t *d = g.d;
  for (int k : {N, H, W, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, G})
    if (d[k] < 1) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": non-positive dimension");
  for (int k : {PT, PL, PB, PR})
    if (d[k] < 0) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": negative padding");
  if (!(d[G] == 1 || (d[G] == d[IC] && d[OC] % d[G] == 0)))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": groups must be 1 or the input channels");
  return g;
}

}  // namespace

void clearConvCache() { cache.clear(); }
size_t convCacheSize() { return cache.size(); }
const CacheStats &convCacheStats() { return cache.stats; }

/**
 * conv(mode, a, b, out, dims): mode 0 forward (a = x, b = filter, out = y), 1 backward data (a = dy,
 * b = filter, out = dx), 2 backward filter (a = x, b = dy, out = dFilter). dims: Int32Array
 * [N, H, W, IC, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, G] (tf dilations, 1 = none).
 */
Napi::Value Conv(const Napi::CallbackInfo &info) {
  const char *fn = "conv";
  const int mode = static_cast<int>(num(info, 0, "mode", fn));
  Geometry g = readGeometry(info, 4, fn);
  const int64_t *d = g.d;
  const size_t xs = d[N] * d[H] * d[W] * d[IC], ys = d[N] * d[OH] * d[OW] * d[OC],
               ws = d[KH] * d[KW] * (d[IC] / d[G]) * d[OC];
  float *a, *b, *out;
  switch (mode) {
    case 0:
      a = f32(info, 1, "x", xs, fn), b = f32(info, 2, "filter", ws, fn), out = f32(info, 3, "y", ys, fn);
      break;
    case 1:
      a = f32(info, 1, "dy", ys, fn), b = f32(info, 2, "filter", ws, fn), out = f32(info, 3, "dx", xs, fn);
      break;
    case 2:
      a = f32(info, 1, "x", xs, fn), b = f32(info, 2, "dy", ys, fn), out = f32(info, 3, "dFilter", ws, fn);
      break;
    default:
      throw Napi::RangeError::New(info.Env(), "conv: mode must be 0, 1 or 2");
  }
  guarded(info, fn, [&] {
    ConvEntry &e = entryFor(g);
    // hit or miss of the primitive this call runs; a miss is created (and timed) here
    const bool cached = mode == 0 ? e.fwd != nullptr : mode == 1 ? e.bwdData != nullptr : e.bwdWeights != nullptr;
    if (cached) {
      cache.stats.hits++;
    } else {
      cache.stats.misses++;
      timedCreate(cache.stats, [&] {
        if (mode == 0) forward(e, g);
        else if (mode == 1) backwardData(e, g);
        else backwardWeights(e, g);
        return 0;
      });
    }
    auto &s = cpuStream();
    const auto &eng = cpuEngine();
    if (mode == 0) {
      auto &p = forward(e, g);
      memory filterUser(e.filterUser, eng, b);
      if (p.reorderFilter) p.filterReorder.execute(s, filterUser, p.filterMem);
      memory src(e.src, eng, a), dst(e.dst, eng, out);
      p.prim.execute(s, {{DNNL_ARG_SRC, src},
                         {DNNL_ARG_WEIGHTS, p.reorderFilter ? p.filterMem : filterUser},
                         {DNNL_ARG_DST, dst}});
    } else if (mode == 1) {
      auto &p = backwardData(e, g);
      memory filterUser(e.filterUser, eng, b);
      if (p.reorderFilter) p.filterReorder.execute(s, filterUser, p.filterMem);
      memory diffDst(e.dst, eng, a), diffSrc(e.src, eng, out);
      p.prim.execute(s, {{DNNL_ARG_DIFF_DST, diffDst},
                         {DNNL_ARG_WEIGHTS, p.reorderFilter ? p.filterMem : filterUser},
                         {DNNL_ARG_DIFF_SRC, diffSrc}});
    } else {
      auto &p = backwardWeights(e, g);
      memory filterUser(e.filterUser, eng, out);
      memory src(e.src, eng, a), diffDst(e.dst, eng, b);
      p.prim.execute(s, {{DNNL_ARG_SRC, src},
                         {DNNL_ARG_DIFF_DST, diffDst},
                         {DNNL_ARG_DIFF_WEIGHTS, p.reorderFilter ? p.filterMem : filterUser}});
      if (p.reorderFilter) p.filterReorder.execute(s, p.filterMem, filterUser);
    }
    s.wait();
  });
  return info.Env().Undefined();
}

/** convImpl(mode, dims): the oneDNN implementation chosen for a geometry (e.g. "jit:avx2"), for benchmarks. */
Napi::Value ConvImpl(const Napi::CallbackInfo &info) {
  const char *fn = "convImpl";
  const int mode = static_cast<int>(num(info, 0, "mode", fn));
  Geometry g = readGeometry(info, 1, fn);
  return guarded(info, fn, [&]() -> Napi::Value {
    ConvEntry &e = entryFor(g);
    std::string s;
    if (mode == 0) {
      auto &p = forward(e, g);
      s = std::string(p.pd.impl_info_str()) + (p.reorderFilter ? " +filter reorder" : "");
    } else if (mode == 1) {
      auto &p = backwardData(e, g);
      s = std::string(p.pd.impl_info_str()) + (p.reorderFilter ? " +filter reorder" : "");
    } else {
      auto &p = backwardWeights(e, g);
      s = std::string(p.pd.impl_info_str()) + (p.reorderFilter ? " +filter reorder" : "");
    }
    return Napi::String::New(info.Env(), s);
  });
}

}  // namespace netaug
