// Training-mode batch norm over channels-last data viewed as [rows, C] (the maths of
// packages/backend/src/batch-norm-core.ts): channel sums in float64, accumulated per fixed block of rows
// and added block by block in order, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NETAUG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NETAUG_CLONES
#endif

namespace netaug {

namespace {

/** Rows per block: ~8 K elements, independent of the thread count. */
int64_t blockRows(int64_t C) { return std::max<int64_t>(1, 8192 / C); }

/** Activation fused after the normalisation: none, relu, relu6 (tfjs' NaN handling). */
enum Act { NONE = 0, RELU = 1, RELU6 = 2 };

template <int ACT>
inline float activate(float z) {
  if (ACT == RELU) return z > 0 ? z : (z == z ? 0.f : z);
  if (ACT == RELU6) return z != z ? z : std::min(std::max(0.f, z), 6.f);
  return z;
}

/**
 * dy · act'(z) from the activation's output y = act(z), as tfjs' unfused gradient writes it (dy · cast(mask)):
 * relu z > 0 ⇔ y > 0; relu6 0 < z ≤ 6 taken as 0 < y < 6 (differs only where z is exactly 6).
 */
template <int ACT>
inline float masked(float dy, const float *y, int64_t i) {
  if (ACT == RELU) return dy * static_cast<float>(y[i] > 0);
  if (ACT == RELU6) return dy * static_cast<float>((y[i] > 0) & (y[i] < 6));
  return dy;
}

/**
 * acc[blk][c] = Σ (a' − ka[c]), acc[blk][C + c] = Σ (a' − ka[c])·(b − kb[c]) over the block's rows, where
 * a' = a (ACT NONE) or a·act'(from y).
 */
template <int ACT>
NETAUG_CLONES void blockSums(const float *a, const float *y, const float *b, const double *ka, const double *kb,
                             int64_t C, int64_t r0, int64_t r1, double *acc) {
  double *s = acc, *q = acc + C;
  for (int64_t c = 0; c < C; c++) s[c] = q[c] = 0;
  for (int64_t r = r0; r < r1; r++) {
    const float *ar = a + r * C, *br = b + r * C;
    const float *yr = y == nullptr ? nullptr : y + r * C;
    for (int64_t c = 0; c < C; c++) {
      const double d = static_cast<double>(masked<ACT>(ar[c], yr, c)) - ka[c];
      s[c] += d;
      q[c] += d * (static_cast<double>(br[c]) - kb[c]);
    }
  }
}

/** s1[c] = Σ_rows (a' − ka), s2[c] = Σ_rows (a' − ka)(b − kb), deterministic for any thread count. */
template <int ACT>
void channelSums(const float *a, const float *y, const float *b, const double *ka, const double *kb, int64_t rows,
                 int64_t C, double *s1, double *s2) {
  const int64_t br = blockRows(C);
  const int64_t blocks = (rows + br - 1) / br;
  std::vector<double> acc(static_cast<size_t>(blocks) * 2 * C);
#pragma omp parallel for schedule(static) num_threads(threadCount()) if (blocks > 1)
  for (int64_t k = 0; k < blocks; k++)
    blockSums<ACT>(a, y, b, ka, kb, C, k * br, std::min(rows, (k + 1) * br), acc.data() + k * 2 * C);
  for (int64_t c = 0; c < C; c++) s1[c] = s2[c] = 0;
  for (int64_t k = 0; k < blocks; k++) {
    const double *p = acc.data() + k * 2 * C;
    for (int64_t c = 0; c < C; c++) {
      s1[c] += p[c];
      s2[c] += p[C + c];
    }
  }
}

/**
 * Forward rows: out = act(a·A[c] + D[c]). Backward rows (b != nullptr): out = a'·A[c] + (b − kb[c])·B[c] + D[c]
 * with a' = a·act'(from y).
 */
template <int ACT>
NETAUG_CLONES void affineRows(const float *a, const float *y, const double *A, const float *b, const double *kb,
                              const double *B, const double *D, int64_t C, int64_t r0, int64_t r1, float *out) {
  for (int64_t r = r0; r < r1; r++) {
    const float *ar = a + r * C;
    float *o = out + r * C;
    if (b == nullptr) {
      for (int64_t c = 0; c < C; c++) o[c] = activate<ACT>(static_cast<float>(ar[c] * A[c] + D[c]));
    } else {
      const float *brow = b + r * C;
      const float *yr = y == nullptr ? nullptr : y + r * C;
      for (int64_t c = 0; c < C; c++)
        o[c] = static_cast<float>(masked<ACT>(ar[c], yr, c) * A[c] + (static_cast<double>(brow[c]) - kb[c]) * B[c] +
                                  D[c]);
    }
  }
}

template <int ACT>
void channelAffine(const float *a, const float *y, const double *A, const float *b, const double *kb,
                   const double *B, const double *D, int64_t rows, int64_t C, float *out) {
  const int64_t br = blockRows(C);
  const int64_t blocks = (rows + br - 1) / br;
#pragma omp parallel for schedule(static) num_threads(threadCount()) if (blocks > 1)
  for (int64_t k = 0; k < blocks; k++)
    affineRows<ACT>(a, y, A, b, kb, B, D, C, k * br, std::min(rows, (k + 1) * br), out);
}

/** Optional trailing `act` argument (0 none, 1 relu, 2 relu6). */
int actArg(const Napi::CallbackInfo &info, size_t i, const char *fn) {
  if (i >= info.Length() || info[i].IsUndefined()) return NONE;
  const int act = static_cast<int>(num(info, i, "act", fn));
  if (act != NONE && act != RELU && act != RELU6)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": act must be 0 (none), 1 (relu) or 2 (relu6)");
  return act;
}

}  // namespace

/**
 * batchNormTrain(x, gamma, beta, epsilon, y, mean, variance, act?): channels = gamma.length; y = act(x̂·γ + β)
 * with act 0 none (default), 1 relu, 2 relu6.
 */
Napi::Value BatchNormTrain(const Napi::CallbackInfo &info) {
  const char *fn = "batchNormTrain";
  const float *x = f32(info, 0, "x", SIZE_MAX, fn);
  const int64_t C = static_cast<int64_t>(f32Length(info, 1));
  const int64_t n = static_cast<int64_t>(f32Length(info, 0));
  if (C < 1 || n % C != 0) throw Napi::RangeError::New(info.Env(), "batchNormTrain: x.length must be a multiple of C");
  const int64_t rows = n / C;
  const float *gamma = f32(info, 1, "gamma", C, fn), *beta = f32(info, 2, "beta", C, fn);
  const double eps = num(info, 3, "epsilon", fn);
  float *y = f32(info, 4, "y", n, fn), *mean = f32(info, 5, "mean", C, fn), *var = f32(info, 6, "variance", C, fn);
  const int act = actArg(info, 7, fn);

  std::vector<double> shift(C), s(C), q(C), scale(C), offset(C);
  for (int64_t c = 0; c < C; c++) shift[c] = rows > 0 ? x[c] : 0;
  channelSums<NONE>(x, nullptr, x, shift.data(), shift.data(), rows, C, s.data(), q.data());
  for (int64_t c = 0; c < C; c++) {
    const double mu = rows > 0 ? s[c] / rows : 0;
    const double v = rows > 0 ? std::max(0.0, (q[c] - s[c] * mu) / rows) : 0;
    const double m = shift[c] + mu;
    mean[c] = static_cast<float>(m);
    var[c] = static_cast<float>(v);
    scale[c] = gamma[c] / std::sqrt(v + eps);
    offset[c] = beta[c] - m * scale[c];
  }
  const double *A = scale.data(), *D = offset.data();
  if (act == RELU6)
    channelAffine<RELU6>(x, nullptr, A, nullptr, nullptr, nullptr, D, rows, C, y);
  else if (act == RELU)
    channelAffine<RELU>(x, nullptr, A, nullptr, nullptr, nullptr, D, rows, C, y);
  else
    channelAffine<NONE>(x, nullptr, A, nullptr, nullptr, nullptr, D, rows, C, y);
  return info.Env().Undefined();
}

/**
 * batchNormTrainGrad(dy, x, gamma, mean, variance, dmean, dvariance, epsilon, dx, dgamma, dbeta, y?, act?):
 * dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/σ·(dy − dβ/m − x̂·dγ/m) + dμ/m + 2·dvar·(x − μ)/m. With act (1 relu, 2 relu6)
 * the gradient of act(batchNorm(x)): dy is first multiplied by act' read from the forward output y.
 */
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo &info) {
  const char *fn = "batchNormTrainGrad";
  const int64_t n = static_cast<int64_t>(f32Length(info, 1));
  const int64_t C = static_cast<int64_t>(f32Length(info, 2));
  if (C < 1 || n % C != 0)
    throw Napi::RangeError::New(info.Env(), "batchNormTrainGrad: x.length must be a multiple of C");
  const int64_t rows = n / C;
  const float *dy = f32(info, 0, "dy", n, fn), *x = f32(info, 1, "x", n, fn), *gamma = f32(info, 2, "gamma", C, fn),
              *mean = f32(info, 3, "mean", C, fn), *var = f32(info, 4, "variance", C, fn),
              *dmean = f32(info, 5, "dmean", C, fn), *dvar = f32(info, 6, "dvariance", C, fn);
  const double eps = num(info, 7, "epsilon", fn);
  float *dx = f32(info, 8, "dx", n, fn), *dgamma = f32(info, 9, "dgamma", C, fn), *dbeta = f32(info, 10, "dbeta", C, fn);
  const int act = actArg(info, 12, fn);
  const float *y = act == NONE ? nullptr : f32(info, 11, "y", n, fn);

  std::vector<double> zero(C, 0.0), mu(C), sdy(C), sdyx(C), A(C), B(C), D(C);
  for (int64_t c = 0; c < C; c++) mu[c] = mean[c];
  if (act == RELU6)
    channelSums<RELU6>(dy, y, x, zero.data(), mu.data(), rows, C, sdy.data(), sdyx.data());
  else if (act == RELU)
    channelSums<RELU>(dy, y, x, zero.data(), mu.data(), rows, C, sdy.data(), sdyx.data());
  else
    channelSums<NONE>(dy, nullptr, x, zero.data(), mu.data(), rows, C, sdy.data(), sdyx.data());
  for (int64_t c = 0; c < C; c++) {
    const double inv = 1 / std::sqrt(static_cast<double>(var[c]) + eps);
    const double db = sdy[c], dg = sdyx[c] * inv;
    dbeta[c] = static_cast<float>(db);
    dgamma[c] = static_cast<float>(dg);
    if (rows == 0) continue;
    const double a = gamma[c] * inv;
    A[c] = a;
    B[c] = (-a * inv * dg) / rows + (2 * dvar[c]) / rows;
    D[c] = -(a * db) / rows + dmean[c] / rows;  // B·(x − μ) is applied with μ subtracted first
  }
  if (act == RELU6)
    channelAffine<RELU6>(dy, y, A.data(), x, mu.data(), B.data(), D.data(), rows, C, dx);
  else if (act == RELU)
    channelAffine<RELU>(dy, y, A.data(), x, mu.data(), B.data(), D.data(), rows, C, dx);
  else
    channelAffine<NONE>(dy, nullptr, A.data(), x, mu.data(), B.data(), D.data(), rows, C, dx);
  return info.Env().Undefined();
}

}  // namespace netaug
