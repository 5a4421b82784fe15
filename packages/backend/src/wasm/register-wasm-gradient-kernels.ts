import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwise-conv2d-backprop-input';
import { makeConv2DBackpropInputConfig } from './kernels/conv2d-backprop-input';
import { makeBatchMatMulConfig } from './kernels/batch-mat-mul';
import { makeCastConfig, makeIdentityConfig } from './kernels/zero-copy';
import { batchNormTrainWasmConfigs } from './kernels/batch-norm-train';
import { registerRelu6Gradient, relu6GradWasmConfig } from './kernels/relu6-grad';

/** The gradient kernels this package adds to tfjs-backend-wasm (4.22 ships none of them). */
export const WASM_GRADIENT_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];

/** Options of {@link registerWasmGradientKernels}. */
export interface RegisterWasmGradientKernelsOptions {
  /** Replace a kernel the wasm backend already has (e.g. a future tfjs release shipping its own). Default false. */
  override?: boolean;
  /**
   * Also wrap the backend's own `Conv2DBackpropInput` so 1×1 convolutions use XNNPACK's matmul (other
   * shapes still use the original kernel). Default true.
   */
  fastConv2DBackpropInput?: boolean;
  /**
   * Also wrap the backend's own `BatchMatMul` so products with a transposed operand (every matMul gradient)
   * run on XNNPACK instead of a scalar loop, and `Identity` / same-dtype `Cast` so they share data instead
   * of copying it (tfjs clones every tensor it saves for backprop). Default true.
   */
  fastMatMulAndIdentity?: boolean;
}

/** Wrapped native kernels, by kernel name. */
const wrapped = new Map<string, KernelConfig>();

function wrapNative(
  kernelName: string,
  make: (native: KernelConfig) => KernelConfig,
  registered: string[],
): void {
  if (wrapped.has(kernelName)) return;
  const native = getKernel(kernelName, 'wasm');
  if (native == null) return;
  const config = make(native);
  wrapped.set(kernelName, config);
  unregisterKernel(kernelName, 'wasm');
  registerKernel(config);
  registered.push(kernelName);
}

/** True when `config` is one of this package's kernels (used by describeBackend). */
export function isNetAugWasmKernel(kernelName: string): boolean {
  const k = getKernel(kernelName, 'wasm');
  if (k == null) return false;
  if (wrapped.get(kernelName)?.kernelFunc === k.kernelFunc) return true;
  return [...WASM_GRADIENT_KERNELS, ...batchNormTrainWasmConfigs, relu6GradWasmConfig].some(
    (c) => c.kernelFunc === k.kernelFunc,
  );
}

/**
 * Registers the missing training kernels (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput`) and the fused batch-norm / ReLU6-gradient kernels for the `wasm`
 * backend; unless `fastConv2DBackpropInput` is false, wraps its `Conv2DBackpropInput` with a matmul path
 * for 1×1 convolutions; unless `fastMatMulAndIdentity` is false, wraps `BatchMatMul` (transposed operands
 * on XNNPACK), `Identity` and `Cast` (zero-copy) and registers the fused ReLU6 gradient. Idempotent; call
 * it before or after the wasm backend is initialised. Returns the names of the kernels registered in this call.
 */
export function registerWasmGradientKernels(options: RegisterWasmGradientKernelsOptions = {}): string[] {
  const registered: string[] = [];
  for (const config of [...WASM_GRADIENT_KERNELS, ...batchNormTrainWasmConfigs, relu6GradWasmConfig]) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing != null) {
      if (existing.kernelFunc === config.kernelFunc || !options.override) continue;
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  if (options.fastConv2DBackpropInput !== false) {
    wrapNative('Conv2DBackpropInput', makeConv2DBackpropInputConfig, registered);
  }
  if (options.fastMatMulAndIdentity !== false) {
    wrapNative('BatchMatMul', makeBatchMatMulConfig, registered);
    wrapNative('Identity', makeIdentityConfig, registered);
    wrapNative('Cast', makeCastConfig, registered);
    registerRelu6Gradient();
  }
  return registered;
}
