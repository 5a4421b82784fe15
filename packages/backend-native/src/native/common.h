// Shared helpers of the netaug_native addon: the oneDNN engine/stream, argument checks, thread count.
#pragma once

#include <napi.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "dnnl.hpp"

namespace netaug {

/** The process-wide CPU engine and its (in-order, synchronous) stream. */
dnnl::engine &cpuEngine();
dnnl::stream &cpuStream();

/** Threads used by oneDNN primitives and the addon's own OpenMP loops. */
int threadCount();
void setThreadCount(int n);

/** A Float32Array argument (throws a TypeError naming the argument otherwise). */
inline float *f32(const Napi::CallbackInfo &info, size_t i, const char *what, size_t expected,
                  const char *fn) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a Float32Array");
  }
  auto a = info[i].As<Napi::Float32Array>();
  if (expected != SIZE_MAX && a.ElementLength() != expected) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + what + " has " +
                                                std::to_string(a.ElementLength()) + " elements, expected " +
                                                std::to_string(expected));
  }
  return a.Data();
}

inline size_t f32Length(const Napi::CallbackInfo &info, size_t i) {
  return info[i].As<Napi::Float32Array>().ElementLength();
}

/** An Int32Array argument of at least `n` elements. */
inline const int32_t *i32(const Napi::CallbackInfo &info, size_t i, size_t n, const char *fn) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[i].As<Napi::Int32Array>().ElementLength() < n) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": dims must be an Int32Array of " +
                                               std::to_string(n) + " elements");
  }
  return info[i].As<Napi::Int32Array>().Data();
}

inline double num(const Napi::CallbackInfo &info, size_t i, const char *what, const char *fn) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

/** Runs `body`, turning oneDNN errors into JS errors that say which kernel failed. */
template <typename F>
auto guarded(const Napi::CallbackInfo &info, const char *fn, F &&body) -> decltype(body()) {
  try {
    return body();
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string(fn) + ": oneDNN error " + std::to_string(e.status) + ": " +
                                           e.what());
  }
}

/** Counters of a primitive cache (reported by info() and `netaug bench step`). */
struct CacheStats {
  uint64_t hits = 0, misses = 0, evictions = 0;
  /** Time spent creating primitives on misses. */
  uint64_t createNs = 0;
};

/** Runs `make`, adding its duration to `stats.createNs`. */
template <typename F>
auto timedCreate(CacheStats &stats, F &&make) -> decltype(make()) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = make();
  stats.createNs += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  return r;
}

/**
 * A bounded map from shapes to primitives, least recently used evicted first. NetAug trains a new random
 * augmented model every step, but each layer has a handful of widths: after a few hundred steps every
 * shape is cached and steps create no primitives.
 */
template <typename K, typename V, typename Hash>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  /** The cached value of `k` (moved to the front), or nullptr. */
  V *find(const K &k) {
    auto it = map_.find(k);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second.get();
  }

  /** Inserts `v` for `k` (not present) at the front, evicting the least recently used past the capacity. */
  V &insert(const K &k, std::unique_ptr<V> v) {
    order_.emplace_front(k, std::move(v));
    map_[k] = order_.begin();
    while (map_.size() > capacity_) {
      map_.erase(order_.back().first);
      order_.pop_back();
      stats.evictions++;
    }
    return *order_.front().second;
  }

  void clear() {
    map_.clear();
    order_.clear();
  }
  size_t size() const { return map_.size(); }

  CacheStats stats;

 private:
  size_t capacity_;
  std::list<std::pair<K, std::unique_ptr<V>>> order_;
  std::unordered_map<K, typename std::list<std::pair<K, std::unique_ptr<V>>>::iterator, Hash> map_;
};

// Kernel entry points (one file each).
Napi::Value Conv(const Napi::CallbackInfo &info);
Napi::Value ConvImpl(const Napi::CallbackInfo &info);
Napi::Value MatMul(const Napi::CallbackInfo &info);
Napi::Value BatchNormTrain(const Napi::CallbackInfo &info);
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo &info);
Napi::Value Eltwise(const Napi::CallbackInfo &info);
Napi::Value EltwiseGrad(const Napi::CallbackInfo &info);
Napi::Value SgdUpdate(const Napi::CallbackInfo &info);
Napi::Value ClearCaches(const Napi::CallbackInfo &info);
Napi::Value TuneMalloc(const Napi::CallbackInfo &info);
Napi::Value Binary(const Napi::CallbackInfo &info);
Napi::Value CopyBox(const Napi::CallbackInfo &info);
void clearConvCache();
void clearMatMulCache();
size_t convCacheSize();
size_t matmulCacheSize();
const CacheStats &convCacheStats();
const CacheStats &matmulCacheStats();

}  // namespace netaug
