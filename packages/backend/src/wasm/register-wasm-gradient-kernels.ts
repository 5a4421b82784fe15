import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwise-conv2d-backprop-input';
import { makeConv2DBackpropInputConfig } from './kernels/conv2d-backprop-input';

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
}

let wrappedConv2DBackpropInput: KernelConfig | null = null;

/** True when `config` is one of this package's kernels (used by describeBackend). */
export function isNetAugWasmKernel(kernelName: string): boolean {
  const k = getKernel(kernelName, 'wasm');
  if (k == null) return false;
  if (wrappedConv2DBackpropInput?.kernelFunc === k.kernelFunc) return true;
  return WASM_GRADIENT_KERNELS.some((c) => c.kernelFunc === k.kernelFunc);
}

/**
 * Registers the missing training kernels (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput`) for the `wasm` backend, and (unless `fastConv2DBackpropInput` is
 * false) wraps its `Conv2DBackpropInput` with a matmul path for 1×1 convolutions. Idempotent; call it
 * before or after the wasm backend is initialised. Returns the names of the kernels registered in this call.
 */
export function registerWasmGradientKernels(options: RegisterWasmGradientKernelsOptions = {}): string[] {
  const registered: string[] = [];
  for (const config of WASM_GRADIENT_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing != null) {
      if (existing.kernelFunc === config.kernelFunc || !options.override) continue;
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  if (options.fastConv2DBackpropInput !== false && wrappedConv2DBackpropInput == null) {
    const native = getKernel('Conv2DBackpropInput', 'wasm');
    if (native != null) {
      wrappedConv2DBackpropInput = makeConv2DBackpropInputConfig(native);
      unregisterKernel('Conv2DBackpropInput', 'wasm');
      registerKernel(wrappedConv2DBackpropInput);
      registered.push('Conv2DBackpropInput');
    }
  }
  return registered;
}
