// Shared helpers of the netaug_native addon: the oneDNN engine/stream, argument checks, thread count.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

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

}  // namespace netaug
