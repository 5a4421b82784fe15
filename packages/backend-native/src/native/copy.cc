// Box copies (Slice, and PadV2 with a constant fill) and broadcasting binary arithmetic, OpenMP over
// fixed chunks (no reductions: the results do not depend on the thread count).
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NETAUG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NETAUG_CLONES
#endif

namespace netaug {

namespace {

constexpr int kRank = 6;
constexpr int64_t kChunk = 1 << 15;

template <typename F>
void chunked(int64_t n, int64_t chunk, F &&f) {
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(threadCount()) if (chunks > 1)
  for (int64_t k = 0; k < chunks; k++) f(k * chunk, std::min(n, (k + 1) * chunk));
}

enum BinOp { ADD = 0, SUB = 1, MUL = 2, DIV = 3 };
enum Mode { SAME = 0, SCALAR_B = 1, SCALAR_A = 2, CYCLIC_B = 3, CYCLIC_A = 4 };

template <int OP>
inline float apply(float a, float b) {
  if constexpr (OP == ADD) return a + b;
  if constexpr (OP == SUB) return a - b;
  if constexpr (OP == MUL) return a * b;
  return a / b;
}

template <int OP>
NETAUG_CLONES void binaryRange(int mode, const float *a, const float *b, float *out, int64_t inner, int64_t i0,
                               int64_t i1) {
  switch (mode) {
    case SAME:
      for (int64_t i = i0; i < i1; i++) out[i] = apply<OP>(a[i], b[i]);
      break;
    case SCALAR_B: {
      const float s = b[0];
      for (int64_t i = i0; i < i1; i++) out[i] = apply<OP>(a[i], s);
      break;
    }
    case SCALAR_A: {
      const float s = a[0];
      for (int64_t i = i0; i < i1; i++) out[i] = apply<OP>(s, b[i]);
      break;
    }
    case CYCLIC_B:  // i0, i1 are multiples of inner (chunks are whole rows)
      for (int64_t r = i0; r < i1; r += inner)
        for (int64_t c = 0; c < inner; c++) out[r + c] = apply<OP>(a[r + c], b[c]);
      break;
    case CYCLIC_A:
      for (int64_t r = i0; r < i1; r += inner)
        for (int64_t c = 0; c < inner; c++) out[r + c] = apply<OP>(a[c], b[r + c]);
      break;
  }
}

struct Box {
  int64_t shape[kRank];   // full array shape (leading 1s)
  int64_t begin[kRank];   // box corner in this array
};

/** Copies the box `size` from src (at its begin) to dst (at its begin); rows of the last axis are memcpy'd. */
void copyBox(const float *src, const Box &s, float *dst, const Box &d, const int64_t *size) {
  int64_t ss[kRank], ds[kRank];
  ss[kRank - 1] = ds[kRank - 1] = 1;
  for (int k = kRank - 2; k >= 0; k--) {
    ss[k] = ss[k + 1] * s.shape[k + 1];
    ds[k] = ds[k + 1] * d.shape[k + 1];
  }
  int64_t rows = 1;
  for (int k = 0; k < kRank - 1; k++) rows *= size[k];
  const int64_t run = size[kRank - 1];
  if (rows == 0 || run == 0) return;
  const int64_t rowsPerChunk = std::max<int64_t>(1, kChunk / run);
  chunked(rows, rowsPerChunk, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t rem = r, so = 0, dof = 0;
      for (int k = kRank - 2; k >= 0; k--) {
        const int64_t i = rem % size[k];
        rem /= size[k];
        so += (i + s.begin[k]) * ss[k];
        dof += (i + d.begin[k]) * ds[k];
      }
      std::memcpy(dst + dof + d.begin[kRank - 1], src + so + s.begin[kRank - 1], run * sizeof(float));
    }
  });
}

}  // namespace

/**
 * binary(op, a, b, out, mode, inner): op 0 add, 1 sub, 2 mul, 3 div; mode 0 same shape, 1 scalar b,
 * 2 scalar a, 3 b repeats every `inner` elements of a (trailing broadcast), 4 the same for a.
 */
Napi::Value Binary(const Napi::CallbackInfo &info) {
  const char *fn = "binary";
  const int op = static_cast<int>(num(info, 0, "op", fn));
  const int mode = static_cast<int>(num(info, 4, "mode", fn));
  const int64_t inner = static_cast<int64_t>(num(info, 5, "inner", fn));
  if (op < ADD || op > DIV || mode < SAME || mode > CYCLIC_A)
    throw Napi::RangeError::New(info.Env(), "binary: unknown op or mode");
  float *a = f32(info, 1, "a", SIZE_MAX, fn), *b = f32(info, 2, "b", SIZE_MAX, fn);
  float *out = f32(info, 3, "out", SIZE_MAX, fn);
  const int64_t na = f32Length(info, 1), nb = f32Length(info, 2), n = f32Length(info, 3);
  const bool ok = (mode == SAME && na == n && nb == n) || (mode == SCALAR_B && na == n && nb == 1) ||
                  (mode == SCALAR_A && nb == n && na == 1) ||
                  (mode == CYCLIC_B && na == n && inner == nb && inner > 0 && n % inner == 0) ||
                  (mode == CYCLIC_A && nb == n && inner == na && inner > 0 && n % inner == 0);
  if (!ok) throw Napi::RangeError::New(info.Env(), "binary: lengths do not fit the broadcast mode");
  const bool cyclic = mode == CYCLIC_A || mode == CYCLIC_B;
  const int64_t chunk = cyclic ? std::max<int64_t>(1, kChunk / inner) * inner : kChunk;
  chunked(n, chunk, [&](int64_t i0, int64_t i1) {
    switch (op) {
      case ADD: binaryRange<ADD>(mode, a, b, out, inner, i0, i1); break;
      case SUB: binaryRange<SUB>(mode, a, b, out, inner, i0, i1); break;
      case MUL: binaryRange<MUL>(mode, a, b, out, inner, i0, i1); break;
      default: binaryRange<DIV>(mode, a, b, out, inner, i0, i1); break;
    }
  });
  return info.Env().Undefined();
}

/**
 * copyBox(src, srcShape, srcBegin, dst, dstShape, dstBegin, size, fill): copies the box `size` (rank ≤ 6,
 * Int32Arrays of one rank) of src at srcBegin into dst at dstBegin; when `fill` is a number, every element
 * of dst is set to it first (PadV2).
 */
Napi::Value CopyBox(const Napi::CallbackInfo &info) {
  const char *fn = "copyBox";
  const float *src = f32(info, 0, "src", SIZE_MAX, fn);
  float *dst = f32(info, 3, "dst", SIZE_MAX, fn);
  auto rankOf = [&](size_t i) { return info[i].IsTypedArray() ? info[i].As<Napi::Int32Array>().ElementLength() : 0; };
  const size_t rank = rankOf(1);
  if (rank < 1 || rank > kRank) throw Napi::RangeError::New(info.Env(), "copyBox: rank must be 1 to 6");
  const int32_t *sShape = i32(info, 1, rank, fn), *sBegin = i32(info, 2, rank, fn), *dShape = i32(info, 4, rank, fn),
                *dBegin = i32(info, 5, rank, fn), *sz = i32(info, 6, rank, fn);
  Box s, d;
  int64_t size[kRank];
  const size_t lead = kRank - rank;
  int64_t sn = 1, dn = 1;
  for (size_t k = 0; k < kRank; k++) {
    const bool pad = k < lead;
    s.shape[k] = pad ? 1 : sShape[k - lead];
    s.begin[k] = pad ? 0 : sBegin[k - lead];
    d.shape[k] = pad ? 1 : dShape[k - lead];
    d.begin[k] = pad ? 0 : dBegin[k - lead];
    size[k] = pad ? 1 : sz[k - lead];
    if (size[k] < 0 || s.begin[k] < 0 || d.begin[k] < 0 || s.begin[k] + size[k] > s.shape[k] ||
        d.begin[k] + size[k] > d.shape[k])
      throw Napi::RangeError::New(info.Env(), "copyBox: box out of bounds");
    sn *= s.shape[k];
    dn *= d.shape[k];
  }
  if (static_cast<int64_t>(f32Length(info, 0)) != sn || static_cast<int64_t>(f32Length(info, 3)) != dn)
    throw Napi::RangeError::New(info.Env(), "copyBox: array lengths do not match the shapes");
  if (info.Length() > 7 && info[7].IsNumber()) {
    const float v = info[7].As<Napi::Number>().FloatValue();
    chunked(dn, kChunk, [&](int64_t i0, int64_t i1) { std::fill(dst + i0, dst + i1, v); });
  }
  copyBox(src, s, dst, d, size);
  return info.Env().Undefined();
}

}  // namespace netaug
