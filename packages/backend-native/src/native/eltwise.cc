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

}  // namespace netaug
