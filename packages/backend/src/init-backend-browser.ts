import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import {
  BATCH_NORM_ACT_TRAIN,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  registerBatchNormTrainKernels,
} from './batch-norm-train';
import { registerTrainingGradients } from './gradients';
import { guardWasmMalloc } from './wasm/malloc-guard';
import { showCoresForThreads } from './wasm/threads';
import { registerRelu6Gradient, RELU6_GRAD } from './wasm/kernels/relu6-grad';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm/register-wasm-gradient-kernels';
import type { WasmBackendLike } from './wasm/wasm-backend';

/** Backends the browser build of `initBackend` knows, in its default order of preference. */
export const BROWSER_BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/**
 * `webgpu` (`@tensorflow/tfjs-backend-webgpu`), `webgl` (`@tensorflow/tfjs-backend-webgl`), `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, XNNPACK, with this package's training kernels) or `cpu` (plain JS).
 */
export type BrowserBackendName = (typeof BROWSER_BACKEND_NAMES)[number];

/** The package each browser backend comes from (the application imports it; see {@link initBackend}). */
export const BROWSER_BACKEND_PACKAGES: Readonly<Record<BrowserBackendName, string>> = {
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Options of the browser {@link initBackend}. */
export interface BrowserInitBackendOptions {
  /** Backend to use. Without it: `webgpu` → `webgl` → `wasm` → `cpu`, the first that is imported and starts. */
  prefer?: BrowserBackendName;
  /** When the preferred backend fails, go on with the default order instead of throwing. Default false. */
  fallback?: boolean;
  /** Log the chosen backend and every attempt with `console.log`. */
  verbose?: boolean;
  /** Register the gradient functions training needs ({@link registerTrainingGradients}). Default true. */
  gradients?: boolean;
  /**
   * Threads of the `wasm` backend where its threaded build runs (cross-origin isolated pages), up to 8. Without
   * it tfjs gives the pool `navigator.hardwareConcurrency / 2` threads (1 on a 2-core machine). Effective when
   * this call is the one that starts the wasm backend.
   */
  threads?: number;
}

/** One attempt of the browser {@link initBackend}. */
export interface BrowserBackendAttempt {
  name: BrowserBackendName;
  ok: boolean;
  /** Why it was chosen or why it failed. */
  reason: string;
}

/** What the browser {@link initBackend} chose. */
export interface BrowserInitBackendResult {
  name: BrowserBackendName;
  reason: string;
  tried: BrowserBackendAttempt[];
  /** True when the gradient functions of convolutions are registered (training needs them). */
  gradients: boolean;
  /**
   * The NetAug.js kernels registered for the chosen backend (fused training batch norm, the convolution
   * backprop kernels tfjs-backend-wasm lacks, the ReLU6 gradient): several on `wasm`, the batch-norm pair on
   * `cpu`, none on `webgl` / `webgpu` — there batch norm and every gradient run as plain tfjs ops.
   */
  netaugKernels: string[];
}

const NETAUG_KERNEL_NAMES = [
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  BATCH_NORM_ACT_TRAIN,
  RELU6_GRAD,
  ...WASM_GRADIENT_KERNELS.map((k) => k.kernelName),
];

/**
 * Browser build of `initBackend`: picks and activates a tfjs backend and readies it for training.
 *
 * A bundle cannot load packages by name at run time, so the application imports the backends it offers
 * (`import '@tensorflow/tfjs-backend-wasm'`, `…-webgl`, `…-webgpu`, `…-cpu`; for wasm also
 * `setWasmPaths(url)` where its `.wasm` files are served) and this function activates the first of
 * `webgpu` → `webgl` → `wasm` → `cpu` that is registered and starts (`options.prefer` picks one). A backend
 * that is not imported, or that fails to start (no WebGPU adapter, no WebGL context), is recorded in `tried`.
 * Choosing `wasm` registers this package's wasm training kernels ({@link registerWasmGradientKernels}); on
 * `webgl` / `webgpu` there are none and training runs on plain tfjs ops (`netaugKernels` is empty).
 *
 * @throws NetAugError `BACKEND_UNAVAILABLE` for an unknown name, a preferred backend that fails (without
 *   `fallback`), or when no backend starts.
 */
export async function initBackend(
  options: BrowserInitBackendOptions = {},
): Promise<BrowserInitBackendResult> {
  const requested = options.prefer;
  if (options.threads != null && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new NetAugError('INVALID_ARGUMENT', `threads must be a positive integer, got ${options.threads}.`);
  }
  if (requested != null && !(BROWSER_BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new NetAugError('BACKEND_UNAVAILABLE', `Unknown browser backend '${String(requested)}'.`, {
      hint: `Valid names in a browser: ${BROWSER_BACKEND_NAMES.join(', ')}.`,
      details: { requested, valid: [...BROWSER_BACKEND_NAMES] },
    });
  }
  const order: BrowserBackendName[] =
    requested == null
      ? [...BROWSER_BACKEND_NAMES]
      : options.fallback
        ? [requested, ...BROWSER_BACKEND_NAMES.filter((n) => n !== requested)]
        : [requested];
  const tried: BrowserBackendAttempt[] = [];
  for (const name of order) {
    const failure = await activate(name, options.threads);
    if (failure != null) {
      tried.push({ name, ok: false, reason: failure });
      if (options.verbose) console.log(`[netaug] backend ${name}: unavailable (${failure})`);
      if (name === requested && !options.fallback) {
        throw new NetAugError('BACKEND_UNAVAILABLE', `Backend '${name}' could not be started: ${failure}`, {
          hint: failure.startsWith('not registered')
            ? `import ${BROWSER_BACKEND_PACKAGES[name]} before initBackend(), pick another backend, or pass fallback: true`
            : 'pick another backend, or pass fallback: true',
          details: { tried },
        });
      }
      continue;
    }
    const reason =
      name === requested
        ? 'requested by option prefer'
        : tried.length === 0
          ? 'first in default order'
          : 'first backend that started';
    tried.push({ name, ok: true, reason });
    if (options.gradients !== false) registerTrainingGradients();
    const gradients = tf.getGradient('Conv2D') != null && tf.getGradient('DepthwiseConv2dNative') != null;
    if (name === 'wasm' && gradients) registerRelu6Gradient();
    const netaugKernels = NETAUG_KERNEL_NAMES.filter((k) => isOwnKernel(k, name));
    if (options.verbose)
      console.log(
        `[netaug] backend ${name} (${reason}; ${netaugKernels.length ? `NetAug kernels: ${netaugKernels.join(', ')}` : 'plain tfjs ops'})`,
      );
    return { name, reason, tried, gradients, netaugKernels };
  }
  throw new NetAugError('BACKEND_UNAVAILABLE', 'No tfjs backend could be started in this browser.', {
    hint: "import '@tensorflow/tfjs-backend-wasm' (and call setWasmPaths) or '@tensorflow/tfjs-backend-cpu' before initBackend()",
    details: { tried },
  });
}

/** A kernel of this package (not one of tfjs') registered for `backend`. */
function isOwnKernel(kernelName: string, backend: string): boolean {
  const k = tf.getKernel(kernelName, backend);
  if (k == null) return false;
  // the convolution backprop kernels are tfjs' own on other backends (and may be on wasm in a future release)
  const ours = WASM_GRADIENT_KERNELS.find((c) => c.kernelName === kernelName);
  return ours == null || ours.kernelFunc === k.kernelFunc;
}

/** The part of `navigator.gpu` used here (the project's TS lib has no DOM types). */
interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** Why WebGPU cannot start here, or null when an adapter is available. */
async function webgpuMissing(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (gpu == null) return 'this browser has no WebGPU (navigator.gpu is undefined)';
  return (await gpu.requestAdapter()) == null
    ? 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null: no usable GPU)'
    : null;
}

async function activate(name: BrowserBackendName, threads: number | undefined): Promise<string | null> {
  const restoreCores = name === 'wasm' && threads != null ? showCoresForThreads(threads) : () => {};
  try {
    if (tf.findBackendFactory(name) == null)
      return `not registered: import ${BROWSER_BACKEND_PACKAGES[name]} before initBackend()`;
    if (name === 'webgpu') {
      const missing = await webgpuMissing();
      if (missing != null) return missing;
    }
    if (name === 'wasm') registerWasmGradientKernels();
    registerBatchNormTrainKernels();
    if (!(await tf.setBackend(name)))
      return `tf.setBackend('${name}') failed (see the warning logged by tfjs)`;
    await tf.ready();
    if (name === 'wasm') guardWasmMalloc(tf.backend() as unknown as WasmBackendLike);
    return null;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return msg.split('\n')[0] ?? msg;
  } finally {
    restoreCores();
  }
}
