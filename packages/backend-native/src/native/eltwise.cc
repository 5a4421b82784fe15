// Element-wise activations and their gradients (one pass, OpenMP over fixed chunks).
#include <omp.h>

#include <algorithm>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NETAUG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NETAUG_CLONES
#endif

namespace netaug {

namespace {

enum Op { RELU = 0, RELU6 = 1 };
constexpr int64_t kChunk = 1 << 15;

NETAUG_CLONES void forwardRange(int op, const float *x, float *y, int64_t i0, int64_t i1) {
  if (op == RELU) {
    for (int64_t i = i0; i < i1; i++) y[i] = x[i] > 0 ? x[i] : (x[i] == x[i] ? 0.f : x[i]);
  } else {
    for (int64_t i = i0; i < i1; i++) y[i] = x[i] != x[i] ? x[i] : std::min(std::max(0.f, x[i]), 6.f);
  }
}

// dy·mask (not a select) keeps tfjs' NaN/∞ semantics: mul(dy, cast(mask)).
NETAUG_CLONES void gradRange(int op, const float *dy, const float *x, float *dx, int64_t i0, int64_t i1) {
  if (op == RELU) {
    for (int64_t i = i0; i < i1; i++) dx[i] = dy[i] * static_cast<float>(x[i] > 0);
  } else {
    for (int64_t i = i0; i < i1; i++) dx[i] = dy[i] * static_cast<float>((x[i] > 0) & (x[i] <= 6));
  }
}

// The optimizer update, operation by operation as @netaug/trainer's tf-op SGD (float32, no fused
// multiply-add), so both paths give the same bits.
#if defined(__clang__)
#define NETAUG_NO_CONTRACT
#elif defined(__GNUC__)
#define NETAUG_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NETAUG_NO_CONTRACT
#endif

NETAUG_NO_CONTRACT void sgdRange(const float *w, const float *g, const float *buf, float lr, float m, float wd,
                                 bool nesterov, float *wOut, float *bufOut, int64_t i0, int64_t i1) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  for (int64_t i = i0; i < i1; i++) {
    float gi = g[i];
    if (wd != 0.f) {
      const float decay = w[i] * wd;
      gi = gi + decay;
    }
    const float held = buf[i] * m;
    const float nb = held + gi;
    float d = nb;
    if (nesterov) {
      const float ahead = nb * m;
      d = gi + ahead;
    }
    const float step = d * lr;
    bufOut[i] = nb;
    wOut[i] = w[i] - step;
  }
}

template <typename F>
void chunked(int64_t n, F &&f) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(threadCount()) if (chunks > 1)
  for (int64_t k = 0; k < chunks; k++) f(k * kChunk, std::min(n, (k + 1) * kChunk));
}

}  // namespace

/** eltwise(op, x, y): op 0 relu, 1 relu6. */
Napi::Value Eltwise(const Napi::CallbackInfo &info) {
  const char *fn = "eltwise";
  const int op = static_cast<int>(num(info, 0, "op", fn));
  if (op != RELU && op != RELU6) throw Napi::RangeError::New(info.Env(), "eltwise: unknown op");
  const float *x = f32(info, 1, "x", SIZE_MAX, fn);
  const int64_t n = static_cast<int64_t>(f32Length(info, 1));
  float *y = f32(info, 2, "y", n, fn);
  chunked(n, [&](int64_t i0, int64_t i1) { forwardRange(op, x, y, i0, i1); });
  return info.Env().Undefined();
}

/** eltwiseGrad(op, dy, x, dx): op 0 relu, 1 relu6. */
Napi::Value EltwiseGrad(const Napi::CallbackInfo &info) {
  const char *fn = "eltwiseGrad";
  const int op = static_cast<int>(num(info, 0, "op", fn));
  if (op != RELU && op != RELU6) throw Napi::RangeError::New(info.Env(), "eltwiseGrad: unknown op");
  const float *dy = f32(info, 1, "dy", SIZE_MAX, fn);
  const int64_t n = static_cast<int64_t>(f32Length(info, 1));
  const float *x = f32(info, 2, "x", n, fn);
  float *dx = f32(info, 3, "dx", n, fn);
  chunked(n, [&](int64_t i0, int64_t i1) { gradRange(op, dy, x, dx, i0, i1); });
  return info.Env().Undefined();
}

/**
 * sgdUpdate(w, g, buf, lr, momentum, weightDecay, nesterov, wOut, bufOut): PyTorch's SGD step with momentum,
 * g' = g + wd·w (wd = 0: none), buf' = m·buf + g', d = g' + m·buf' (Nesterov) or buf', w' = w − lr·d.
 */
Napi::Value SgdUpdate(const Napi::CallbackInfo &info) {
  const char *fn = "sgdUpdate";
  const float *w = f32(info, 0, "w", SIZE_MAX, fn);
  const int64_t n = static_cast<int64_t>(f32Length(info, 0));
  const float *g = f32(info, 1, "g", n, fn), *buf = f32(info, 2, "buf", n, fn);
  const float lr = static_cast<float>(num(info, 3, "lr", fn));
  const float m = static_cast<float>(num(info, 4, "momentum", fn));
  const float wd = static_cast<float>(num(info, 5, "weightDecay", fn));
  if (info.Length() <= 6 || !info[6].IsBoolean())
    throw Napi::TypeError::New(info.Env(), "sgdUpdate: nesterov must be a boolean");
  const bool nesterov = info[6].As<Napi::Boolean>().Value();
  float *wOut = f32(info, 7, "wOut", n, fn), *bufOut = f32(info, 8, "bufOut", n, fn);
  chunked(n, [&](int64_t i0, int64_t i1) { sgdRange(w, g, buf, lr, m, wd, nesterov, wOut, bufOut, i0, i1); });
  return info.Env().Undefined();
}

}  // namespace netaug
