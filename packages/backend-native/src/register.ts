import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddon, type PrimitiveCacheStats } from './addon';
import type { KernelArgs, KernelContext } from './kernels/common';
import { convKernels } from './kernels/conv';
import { matMulKernels } from './kernels/matmul';
import { batchNormKernels } from './kernels/batch-norm';
import { eltwiseKernels } from './kernels/eltwise';
import { arithKernels } from './kernels/arith';
import { optimKernels } from './kernels/optim';
import { ensureRelu6Gradient } from './gradients';
import { BufferPool } from './pool';

/** Name of the tfjs backend this package registers. */
export const NATIVE_BACKEND = 'native';

/** Options of {@link registerNativeBackend}. */
export interface NativeBackendOptions {
  /** Threads of the native kernels; else env `NETAUG_THREADS`, else all cores (`os.availableParallelism()`). */
  threads?: number;
}

type KernelFactory = (
  ctx: KernelContext,
) => (args: KernelArgs<never, never>) => tf.TensorInfo | tf.TensorInfo[];

const FACTORIES: Record<string, KernelFactory> = {
  ...(convKernels as unknown as Record<string, KernelFactory>),
  ...(matMulKernels as unknown as Record<string, KernelFactory>),
  ...(batchNormKernels as unknown as Record<string, KernelFactory>),
  ...(eltwiseKernels as unknown as Record<string, KernelFactory>),
  ...(arithKernels as unknown as Record<string, KernelFactory>),
  ...(optimKernels as unknown as Record<string, KernelFactory>),
};

/** Kernels the `native` backend runs in the addon; every other kernel is tfjs-backend-cpu's. */
export const NATIVE_KERNELS: readonly string[] = Object.freeze(Object.keys(FACTORIES));

/**
 * tfjs-backend-cpu's backend whose kernel outputs come from a {@link BufferPool}: disposed tensors give their
 * buffers back; values that leave the backend (`readSync` / `read`) are never recycled.
 */
class NativeBackend extends MathBackendCPU {
  constructor(readonly pool: BufferPool) {
    super();
    // no "install tfjs-node" banner: this backend is the fast path
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    if (this.data.has(dataId)) {
      const values = this.data.get(dataId).values;
      // arena memory: hand out an exact copy (its .buffer is what callers expect) and keep recycling the block
      if (this.pool.inArena(values)) return values.slice();
      this.pool.escape(values);
    }
    return super.readSync(dataId);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const disposed = super.disposeData(dataId, force);
    if (disposed && this.pool.owns(values) && !this.data.has(dataId)) this.pool.release(values);
    return disposed;
  }
}

function poolBytes(): number {
  const env = typeof process !== 'undefined' ? process.env.NETAUG_NATIVE_POOL_MB?.trim() : undefined;
  if (env) {
    const mb = Number(env);
    if (!(mb >= 0))
      throw new Error(`@netaug/backend-native: NETAUG_NATIVE_POOL_MB must be a number ≥ 0, got '${env}'`);
    return mb * 1024 * 1024;
  }
  return Math.min(4 * 1024 ** 3, os.totalmem() / 4);
}

let pool: BufferPool | null = null;
let registered = false;
let activeThreads = 0;
let fallbackCount = 0;

function resolveThreads(option: number | undefined): number {
  const check = (n: number, from: string) => {
    if (!(Number.isInteger(n) && n >= 1 && n <= 4096))
      throw new Error(`@netaug/backend-native: threads must be a positive integer, got ${n} (from ${from})`);
    return n;
  };
  if (option != null) return check(option, 'option threads');
  const env = typeof process !== 'undefined' ? process.env.NETAUG_THREADS?.trim() : undefined;
  if (env) return check(Number(env), 'env NETAUG_THREADS');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Registers the tfjs backend `native`: tfjs-backend-cpu's `MathBackendCPU` (tensors are plain typed arrays)
 * with every cpu kernel, and the heavy training kernels ({@link NATIVE_KERNELS}) replaced by the addon's
 * (oneDNN convolutions / matmul, OpenMP batch norm and activations). The `cpu` backend is left untouched.
 *
 * Idempotent; a later call with another thread count changes the thread count. Results are deterministic
 * for a fixed thread count.
 *
 * @throws Error (first line: why) when the addon cannot be loaded — not built, its build failed, or
 *   libdnnl missing — or `threads` is not a positive integer.
 */
export function registerNativeBackend(options: NativeBackendOptions = {}): void {
  const threads = resolveThreads(options.threads);
  const { addon } = loadAddon();
  if (threads !== activeThreads) {
    addon.setThreads(threads);
    activeThreads = threads;
  }
  if (registered) return;

  if (tf.findBackendFactory(NATIVE_BACKEND) == null) {
    pool ??= new BufferPool(poolBytes());
    const p = pool;
    tf.registerBackend(
      NATIVE_BACKEND,
      () => new NativeBackend(p),
      // below cpu/wasm: registering does not change tfjs' automatic choice; initBackend selects it by name
      0,
    );
  }
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  const cpu = (kernelName: string, args: object) => {
    const k = cpuKernels.get(kernelName) ?? tf.getKernel(kernelName, 'cpu');
    if (k == null) throw new Error(`native backend: no cpu kernel '${kernelName}' to fall back to`);
    return guardViews(k.kernelFunc)(args as unknown as Parameters<tf.KernelFunc>[0]);
  };
  const ctx: KernelContext = {
    addon,
    alloc: (n) => (pool != null ? pool.alloc(n) : new Float32Array(n)),
    cpu,
    fallback(kernelName, args) {
      fallbackCount++;
      return cpu(kernelName, args);
    },
  };
  for (const k of cpuKernels.values()) {
    if (k.kernelName in FACTORIES || tf.getKernel(k.kernelName, NATIVE_BACKEND) != null) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND, kernelFunc: guardViews(k.kernelFunc) });
  }
  for (const [kernelName, factory] of Object.entries(FACTORIES)) {
    if (tf.getKernel(kernelName, NATIVE_BACKEND) != null) continue;
    tf.registerKernel({
      kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: factory(ctx) as unknown as tf.KernelFunc,
    });
  }
  registered = true;
  ensureRelu6Gradient();
}

/**
 * Wraps a tfjs-backend-cpu kernel: an output that is a view of a pooled input under a new data id (contiguous
 * `Slice`, `Split`, …) would share its memory: a view of arena memory is replaced by a copy; a small pooled
 * buffer becomes shared, so it is never recycled.
 */
function guardViews(f: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const out = f(args);
    const p = pool;
    if (p == null) return out;
    const backend = args.backend as unknown as NativeBackend;
    const inputIds = Object.values(args.inputs).map((t) => (t as tf.TensorInfo | undefined)?.dataId);
    for (const t of Array.isArray(out) ? out : [out]) {
      if (inputIds.includes(t.dataId) || !backend.data.has(t.dataId)) continue;
      const d = backend.data.get(t.dataId);
      if (p.inArena(d.values)) d.values = d.values.slice();
      else if (p.owns(d.values)) p.escape(d.values);
    }
    return out;
  };
}

/** What {@link nativeInfo} reports. */
export interface NativeInfo {
  /** Path of the loaded addon. */
  addon: string;
  /** oneDNN version, e.g. `2.6.3`. */
  onednn: string;
  /** oneDNN's threading runtime (`omp` for Debian's build). */
  cpuRuntime: string;
  /** Instruction set oneDNN's JIT uses, e.g. `avx2`. */
  isa: string;
  /** Threads of the native kernels. */
  threads: number;
  /** Kernels the addon runs. */
  kernels: readonly string[];
  /** Cached oneDNN convolution geometries / matmul shapes. */
  convPrimitives: number;
  matmulPrimitives: number;
  /** Hits, misses, evictions and creation time of the convolution (per primitive) and matmul caches. */
  convCache: PrimitiveCacheStats;
  matmulCache: PrimitiveCacheStats;
  /** Calls of overridden kernels that fell back to tfjs-backend-cpu (e.g. NCHW, int32). */
  fallbacks: number;
  /**
   * Output buffers: small ones recycled from disposed tensors / freshly allocated, free bytes held for reuse
   * (small buffers and free arena blocks), the cap on them; the arena of large outputs: its chunks' bytes,
   * allocations that fit a free block / needed a new chunk, chunks dropped.
   */
  pool: {
    hits: number;
    misses: number;
    evictions: number;
    bytes: number;
    maxBytes: number;
    arena: { bytes: number; hits: number; misses: number; evictions: number };
  };
}

/** Facts about the loaded addon. Throws like {@link registerNativeBackend} when it cannot be loaded. */
export function nativeInfo(): NativeInfo {
  const { addon, file } = loadAddon();
  const i = addon.info();
  return {
    addon: file,
    onednn: i.onednn,
    cpuRuntime: i.cpuRuntime,
    isa: i.isa,
    threads: i.threads,
    kernels: NATIVE_KERNELS,
    convPrimitives: i.convPrimitives,
    matmulPrimitives: i.matmulPrimitives,
    convCache: i.convCache,
    matmulCache: i.matmulCache,
    fallbacks: fallbackCount,
    pool: {
      hits: pool?.hits ?? 0,
      misses: pool?.misses ?? 0,
      evictions: pool?.evictions ?? 0,
      bytes: pool?.bytes ?? 0,
      maxBytes: pool?.maxBytes ?? 0,
      arena: {
        bytes: pool?.arena.capacity ?? 0,
        hits: pool?.arena.hits ?? 0,
        misses: pool?.arena.misses ?? 0,
        evictions: pool?.arena.evictions ?? 0,
      },
    },
  };
}

/** @internal The loaded addon (benchmarks and tests call it directly). */
export function nativeAddon(): NativeAddon {
  return loadAddon().addon;
}
