// Batched matrix products on oneDNN (matmul primitive / sgemm; row-major, transposes, batch broadcast).
#include <algorithm>
#include <array>
#include <memory>

#include "common.h"

namespace netaug {

namespace {

enum { BA, BB, M, K, NN, TA, TB, NDIMS };
using Key = std::array<int64_t, NDIMS>;

using dnnl::memory;
using dt = memory::data_type;

struct MatMulEntry {
  memory::desc a, b, c;
  dnnl::matmul prim;
};

std::unique_ptr<MatMulEntry> makeEntry(const Key &k) {
  auto e = std::make_unique<MatMulEntry>();
  const int64_t m = k[M], kk = k[K], n = k[NN];
  // a: [M, K] stored as [K, M] when transposed; b: [K, N] stored as [N, K] when transposed
  e->a = memory::desc({m, kk}, dt::f32, k[TA] ? memory::dims{1, m} : memory::dims{kk, 1});
  e->b = memory::desc({kk, n}, dt::f32, k[TB] ? memory::dims{1, kk} : memory::dims{n, 1});
  e->c = memory::desc({m, n}, dt::f32, memory::dims{n, 1});
  e->prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(e->a, e->b, e->c), cpuEngine()));
  return e;
}

struct KeyHash {
  size_t operator()(const Key &k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : k) h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h;
  }
};

LruCache<Key, MatMulEntry, KeyHash> cache(4096);

MatMulEntry &entryFor(const Key &k) {
  if (MatMulEntry *hit = cache.find(k)) {
    cache.stats.hits++;
    return *hit;
  }
  cache.stats.misses++;
  return cache.insert(k, timedCreate(cache.stats, [&] { return makeEntry(k); }));
}

}  // namespace

void clearMatMulCache() { cache.clear(); }
size_t matmulCacheSize() { return cache.size(); }
const CacheStats &matmulCacheStats() { return cache.stats; }

/**
 * matMul(a, b, out, dims): out[batch] = op(a[batch]) · op(b[batch]) with dims Int32Array
 * [batchA, batchB, M, K, N, transposeA, transposeB]; a batch of 1 broadcasts.
 *
 * One product (the 1×1 convolutions) runs oneDNN's matmul primitive, cached per shape; batched products
 * (tiny ones here: global average pooling) run oneDNN's sgemm per batch entry, with no primitive per shape.
 * A/B on the benchmark step (sgemm for everything vs the primitive) was within the machine's noise.
 */
Napi::Value MatMul(const Napi::CallbackInfo &info) {
  const char *fn = "matMul";
  const int32_t *raw = i32(info, 3, NDIMS, fn);
  Key k;
  for (int i = 0; i < NDIMS; i++) k[i] = raw[i];
  for (int i : {BA, BB, M, K, NN})
    if (k[i] < 1) throw Napi::RangeError::New(info.Env(), "matMul: non-positive dimension");
  if (k[BA] != k[BB] && k[BA] != 1 && k[BB] != 1)
    throw Napi::RangeError::New(info.Env(), "matMul: batch sizes must match or be 1");
  const int64_t batch = std::max(k[BA], k[BB]);
  const int64_t m = k[M], kk = k[K], n = k[NN];
  const float *a = f32(info, 0, "a", k[BA] * m * kk, fn);
  const float *b = f32(info, 1, "b", k[BB] * kk * n, fn);
  float *c = f32(info, 2, "out", batch * m * n, fn);
  const char ta = k[TA] ? 'T' : 'N', tb = k[TB] ? 'T' : 'N';
  const int64_t lda = k[TA] ? m : kk, ldb = k[TB] ? kk : n;
  guarded(info, fn, [&] {
    if (batch == 1) {
      MatMulEntry &e = entryFor(k);
      const auto &eng = cpuEngine();
      memory am(e.a, eng, const_cast<float *>(a)), bm(e.b, eng, const_cast<float *>(b)), cm(e.c, eng, c);
      e.prim.execute(cpuStream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
      cpuStream().wait();
      return;
    }
    for (int64_t i = 0; i < batch; i++) {
      const float *ai = a + (k[BA] == 1 ? 0 : i) * m * kk;
      const float *bi = b + (k[BB] == 1 ? 0 : i) * kk * n;
      const dnnl::status st = dnnl::sgemm(ta, tb, m, n, kk, 1.f, ai, lda, bi, ldb, 0.f, c + i * m * n, n);
      if (st != dnnl::status::success) throw dnnl::error(static_cast<dnnl_status_t>(st), "sgemm failed");
    }
  });
  return info.Env().Undefined();
}

}  // namespace netaug
