// netaug_native: N-API entry points of @netaug/backend-native (oneDNN + OpenMP training kernels).
#include <omp.h>

#include <cstdlib>  // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

#if defined(NETAUG_DLOPEN_DNNL)
#include <dlfcn.h>
#endif

namespace netaug {

namespace {
int gThreads = 0;
}

dnnl::engine &cpuEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream &cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

int threadCount() { return gThreads > 0 ? gThreads : omp_get_max_threads(); }

void setThreadCount(int n) {
  if (n == gThreads) return;
  gThreads = n;
  omp_set_num_threads(n);
  // some oneDNN kernels balance their work for the thread count they were created with
  clearConvCache();
  clearMatMulCache();
}

namespace {

const char *isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "all";
  }
}

const char *runtimeName(unsigned r) {
  switch (r) {
    case DNNL_RUNTIME_OMP: return "omp";
    case DNNL_RUNTIME_TBB: return "tbb";
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "other";
  }
}

Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const dnnl::version_t *v = dnnl::version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("onednnHash", v->hash);
  o.Set("cpuRuntime", runtimeName(v->cpu_runtime));
  o.Set("isa", isaName(dnnl::get_effective_cpu_isa()));
  o.Set("threads", threadCount());
  o.Set("ompMaxThreads", omp_get_max_threads());
  o.Set("convPrimitives", static_cast<double>(convCacheSize()));
  o.Set("matmulPrimitives", static_cast<double>(matmulCacheSize()));
  const auto put = [&](const char *name, const CacheStats &st) {
    Napi::Object c = Napi::Object::New(env);
    c.Set("hits", static_cast<double>(st.hits));
    c.Set("misses", static_cast<double>(st.misses));
    c.Set("evictions", static_cast<double>(st.evictions));
    c.Set("createMs", static_cast<double>(st.createNs) / 1e6);
    o.Set(name, c);
  };
  put("convCache", convCacheStats());
  put("matmulCache", matmulCacheStats());
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  const double n = num(info, 0, "threads", "setThreads");
  if (!(n >= 1 && n <= 4096 && n == static_cast<int>(n)))
    throw Napi::RangeError::New(info.Env(), "setThreads: threads must be a positive integer");
  setThreadCount(static_cast<int>(n));
  return info.Env().Undefined();
}

}  // namespace

/**
 * tuneMalloc(): keeps freed memory in glibc's heap instead of returning it to the kernel (mmap threshold at
 * its 32 MiB maximum, no trimming), so the activations tfjs allocates and frees every step are reused
 * without page faults. Returns false where this is not glibc.
 */
Napi::Value TuneMalloc(const Napi::CallbackInfo &info) {
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
                  mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value ClearCaches(const Napi::CallbackInfo &info) {
  clearConvCache();
  clearMatMulCache();
  return info.Env().Undefined();
}

}  // namespace netaug

namespace {

/**
 * On Linux the addon does not link oneDNN / libgomp: it loads them here, after choosing how long idle
 * OpenMP workers spin. libgomp reads that once, when it is loaded (so setting it from JS is not enough: jest
 * gives tests a copy of process.env). Between two kernels the JS thread runs for 10–500 µs; workers that
 * sleep at once (OMP_WAIT_POLICY=PASSIVE) cost a wake-up per kernel (a whole step ~25 % slower on an idle
 * 2-core VM), workers that spin for ever steal the JS thread's core when the machine is busy (kernels ~10×
 * slower at load 8 on 2 cores). GOMP_SPINCOUNT=100000 (libgomp's default is 300000) was as fast as
 * spinning when idle. An OMP_WAIT_POLICY or GOMP_SPINCOUNT set by the user wins. Symbols bind lazily, at
 * the first kernel call. Returns an error message, or "" on success.
 */
std::string loadRuntime() {
#if defined(NETAUG_DLOPEN_DNNL)
  if (getenv("OMP_WAIT_POLICY") == nullptr && getenv("GOMP_SPINCOUNT") == nullptr)
    setenv("GOMP_SPINCOUNT", "100000", 0);
  std::string err;
  for (const char *name : {"libdnnl.so.2", "libdnnl.so"}) {
    if (dlopen(name, RTLD_NOW | RTLD_GLOBAL) != nullptr) return "";
    const char *e = dlerror();
    if (err.empty() && e != nullptr) err = e;
  }
  return err;
#else
  return "";
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace netaug;
  const std::string err = loadRuntime();
  if (!err.empty()) {
    exports.Set("loadError", "cannot load oneDNN: " + err);
    return exports;
  }
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("clearCaches", Napi::Function::New(env, ClearCaches, "clearCaches"));
  exports.Set("conv", Napi::Function::New(env, Conv, "conv"));
  exports.Set("convImpl", Napi::Function::New(env, ConvImpl, "convImpl"));
  exports.Set("matMul", Napi::Function::New(env, MatMul, "matMul"));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain, "batchNormTrain"));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad, "batchNormTrainGrad"));
  exports.Set("eltwise", Napi::Function::New(env, Eltwise, "eltwise"));
  exports.Set("eltwiseGrad", Napi::Function::New(env, EltwiseGrad, "eltwiseGrad"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc, "tuneMalloc"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("copyBox", Napi::Function::New(env, CopyBox, "copyBox"));
  return exports;
}

NODE_API_MODULE(netaug_native, Init)
