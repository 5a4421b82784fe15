import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import { BACKEND_NAMES, isBackendName, type BackendName } from './backend-names';
import { registerWasmGradientKernels } from './wasm/register-wasm-gradient-kernels';
import { guardWasmMalloc } from './wasm/malloc-guard';
import { showCoresForThreads } from './wasm/threads';
import { registerRelu6Gradient } from './wasm/kernels/relu6-grad';
import { registerTrainingGradients } from './gradients';
import type { WasmBackendLike } from './wasm/wasm-backend';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use; overrides env `NETAUG_BACKEND`. Without it: `tensorflow` → `native` → `wasm` → `cpu`. */
  prefer?: BackendName;
  /** When the preferred backend fails to load, go on with the default order instead of throwing. Default false. */
  fallback?: boolean;
  /**
   * Threads for the `native` backend (else env `NETAUG_THREADS`, else all cores) and the wasm backend (only
   * effective where threaded wasm runs, i.e. browsers with cross-origin isolation; there the pool gets this many
   * threads, up to 8, where tfjs alone would cap it at `navigator.hardwareConcurrency / 2`).
   */
  threads?: number;
  /** Log the chosen backend and every attempt with `console.log`. */
  verbose?: boolean;
  /**
   * Register the gradient functions training needs ({@link registerTrainingGradients}; tfjs-core's Node bundle
   * registers none). Kernels that already have one keep it. Default true.
   */
  gradients?: boolean;
}

/** One attempt of {@link initBackend}. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was chosen or why it failed. */
  reason: string;
}

/** What {@link initBackend} chose. */
export interface InitBackendResult {
  /** The active tfjs backend. */
  name: BackendName;
  /** Why this backend (preferred by option / env, or first that loaded). */
  reason: string;
  /** Every backend tried, in order. */
  tried: BackendAttempt[];
  /**
   * True when the gradient functions of convolutions are registered (`tf.grad`, `variableGrads` need them):
   * always, unless `gradients: false` was passed and nothing else registered them.
   */
  gradients: boolean;
}

/** Loads a module by name; a seam for tests. Uses the runtime's `require` when there is one. */
export type ModuleLoader = (name: string) => Promise<unknown>;

const defaultLoader: ModuleLoader = async (name) => import(/* webpackIgnore: true */ name);

let loader: ModuleLoader = defaultLoader;

/** @internal Replaces the module loader (tests simulate installed / missing optional backends). */
export function setModuleLoaderForTests(l: ModuleLoader | null): void {
  loader = l ?? defaultLoader;
}

/**
 * Picks and activates a tfjs backend, and readies it for training.
 *
 * Order: `tensorflow` (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`) → `native`
 * (`@netaug/backend-native`, when its addon was built) → `wasm`
 * (`@tensorflow/tfjs-backend-wasm`; in Node its `.wasm` binaries are located next to the installed package)
 * → `cpu` (`@tensorflow/tfjs-backend-cpu`). All three are optional peer dependencies: a missing one is
 * recorded in `tried` and skipped. `options.prefer`, else env `NETAUG_BACKEND`, selects one backend; if it
 * cannot be loaded this throws `BACKEND_UNAVAILABLE` with the reason, unless `options.fallback` is true.
 * Choosing `wasm` registers the gradient kernels tfjs-backend-wasm 4.22 lacks
 * ({@link registerWasmGradientKernels}). Unless `options.gradients` is false, the gradient functions training
 * needs are registered too ({@link registerTrainingGradients}; no `@tensorflow/tfjs-layers` needed).
 *
 * @throws NetAugError `BACKEND_UNAVAILABLE` for an unknown name, a preferred backend that fails
 *   (without `fallback`), or when no backend loads at all.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<InitBackendResult> {
  const envName = readEnvBackend();
  const requested = options.prefer ?? envName;
  const source = options.prefer != null ? 'option prefer' : 'env NETAUG_BACKEND';
  if (requested != null && !isBackendName(requested)) {
    throw new NetAugError('BACKEND_UNAVAILABLE', `Unknown backend '${String(requested)}' (from ${source}).`, {
      hint: `Valid names: ${BACKEND_NAMES.join(', ')}.`,
      details: { requested, valid: [...BACKEND_NAMES] },
    });
  }
  if (options.threads != null && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new NetAugError('INVALID_ARGUMENT', `threads must be a positive integer, got ${options.threads}.`);
  }

  const order: BackendName[] =
    requested == null
      ? [...BACKEND_NAMES]
      : options.fallback
        ? [requested, ...BACKEND_NAMES.filter((n) => n !== requested)]
        : [requested];

  const tried: BackendAttempt[] = [];
  for (const name of order) {
    const failure = await tryActivate(name, options);
    if (failure != null) {
      tried.push({ name, ok: false, reason: failure });
      if (options.verbose) console.log(`[netaug] backend ${name}: unavailable (${failure})`);
      if (name === requested && !options.fallback) {
        throw new NetAugError(
          'BACKEND_UNAVAILABLE',
          `Backend '${name}' (from ${source}) could not be loaded: ${failure}`,
          {
            hint:
              name === 'tensorflow'
                ? 'Install @tensorflow/tfjs-node (or -gpu) where libtensorflow can be downloaded, pick another backend, or pass fallback: true.'
                : `Install the backend's package, pick another backend, or pass fallback: true.`,
            details: { tried },
          },
        );
      }
      continue;
    }
    const reason =
      name === requested
        ? `requested by ${source}`
        : tried.length === 0
          ? 'first in default order'
          : 'first backend that loaded';
    tried.push({ name, ok: true, reason });
    if (options.gradients !== false) registerTrainingGradients();
    const gradients = hasGradients();
    // tfjs' own gradients may have been loaded: put the fused ReLU6 gradient back over theirs
    if (name === 'wasm' && gradients) registerRelu6Gradient();
    const result: InitBackendResult = { name, reason, tried, gradients };
    if (options.verbose) {
      console.log(`[netaug] backend ${name} (${reason})`);
      if (!result.gradients)
        console.log('[netaug] warning: no tfjs gradients registered; training will fail');
    }
    return result;
  }
  throw new NetAugError('BACKEND_UNAVAILABLE', 'No tfjs backend could be loaded.', {
    hint: 'Install @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu.',
    details: { tried },
  });
}

function hasGradients(): boolean {
  return tf.getGradient('Conv2D') != null && tf.getGradient('DepthwiseConv2dNative') != null;
}

function readEnvBackend(): string | undefined {
  const raw = typeof process !== 'undefined' ? process.env?.NETAUG_BACKEND : undefined;
  const v = raw?.trim().toLowerCase();
  return v ? v : undefined;
}

/** Loads and activates one backend. Returns null on success, else why it failed. */
async function tryActivate(name: BackendName, options: InitBackendOptions): Promise<string | null> {
  try {
    switch (name) {
      case 'tensorflow':
        return await activateTensorflow();
      case 'native':
        return await activateNative(options.threads);
      case 'wasm':
        return await activateWasm(options.threads);
      case 'cpu':
        return await activateCpu();
    }
  } catch (e) {
    return errorText(e);
  }
}

async function activateTensorflow(): Promise<string | null> {
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await loader(pkg);
      return (await setBackend('tensorflow')) ? null : `${pkg} loaded but tf.setBackend('tensorflow') failed`;
    } catch (e) {
      failures.push(`${pkg}: ${errorText(e)}`);
    }
  }
  return failures.join('; ');
}

/** What `@netaug/backend-native` exports (an optional peer: the addon needs a C++ build). */
interface NativeModule {
  /** Registers the tfjs backend `native` (idempotent); throws with the reason when the addon cannot load. */
  registerNativeBackend(options?: { threads?: number }): void;
}

async function activateNative(threads: number | undefined): Promise<string | null> {
  const mod = (await loader('@netaug/backend-native')) as NativeModule;
  if (typeof mod.registerNativeBackend !== 'function')
    return '@netaug/backend-native does not export registerNativeBackend';
  mod.registerNativeBackend(threads != null ? { threads } : {});
  return (await setBackend('native')) ? null : "tf.setBackend('native') failed";
}

interface WasmModule {
  setWasmPaths(prefix: string): void;
  setThreadsCount?(n: number): void;
}

async function activateWasm(threads: number | undefined): Promise<string | null> {
  const mod = (await loader('@tensorflow/tfjs-backend-wasm')) as WasmModule;
  const dir = await wasmDistDir();
  let restoreCores = () => {};
  try {
    // before tf.findBackend: on first use it starts instantiating the module (asynchronously)
    if (threads != null) restoreCores = showCoresForThreads(threads);
    if (tf.findBackend('wasm') == null) {
      // First initialisation: point the backend at its own dist folder (Node cannot fetch relative URLs).
      if (dir != null) mod.setWasmPaths(dir);
      if (threads != null) mod.setThreadsCount?.(threads);
    }
    registerWasmGradientKernels();
    if (!(await setBackend('wasm'))) return "tf.setBackend('wasm') failed (see the error logged by tfjs)";
  } finally {
    restoreCores();
  }
  guardWasmMalloc(tf.backend() as unknown as WasmBackendLike);
  return null;
}

async function activateCpu(): Promise<string | null> {
  await loader('@tensorflow/tfjs-backend-cpu');
  return (await setBackend('cpu')) ? null : "tf.setBackend('cpu') failed";
}

async function setBackend(name: string): Promise<boolean> {
  if (tf.findBackendFactory(name) == null) return false;
  const ok = await tf.setBackend(name);
  if (ok) await tf.ready();
  return ok;
}

/** The directory holding tfjs-backend-wasm's `.wasm` files (with trailing separator), in Node; else null. */
async function wasmDistDir(): Promise<string | null> {
  if (typeof process === 'undefined' || process.versions?.node == null) return null;
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  // Resolve from this file when it has a path (CommonJS), else from the working directory.
  const bases = [typeof __filename === 'string' ? __filename : null, path.join(process.cwd(), 'index.js')];
  for (const base of bases) {
    if (base == null) continue;
    try {
      return path.dirname(createRequire(base).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
    } catch {
      // try the next base
    }
  }
  return null;
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}
