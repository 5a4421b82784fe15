import {
  Cast,
  Identity,
  type CastAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from '../wasm-backend';
import { guardWasmMalloc } from '../malloc-guard';

/**
 * tfjs-backend-wasm's `Identity` copies its input, and so does its `Cast` when the dtype does not change.
 * tfjs-core calls `Identity` for every tensor it saves for backprop (`engine.saveTensorsForBackwardMode`
 * clones) and the gradients of `Mul` & co. cast float32 to float32, so a training step copied ~35 % of all
 * the bytes it allocated (measured: 640 of 1 520 MiB per step of MobileNetV2-Tiny, 28×28, batch 16).
 * tfjs tensors are immutable and the wasm backend reference-counts data (its `Reshape` shares data the same
 * way), so sharing the data is what the cpu backend already does.
 */
function shareData(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  guardWasmMalloc(backend);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Zero-copy `Identity` for the wasm backend (strings still go to the original kernel). */
export function makeIdentityConfig(native: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: WasmBackendLike }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return native.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return shareData(args.backend, x);
  };
  return {
    kernelName: Identity,
    backendName: 'wasm',
    setupFunc: native.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** `Cast` that shares the data when the dtype does not change; real conversions go to the original kernel. */
export function makeCastConfig(native: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: CastAttrs }) => {
    const { x } = args.inputs;
    if (x.dtype !== 'string' && args.attrs.dtype === x.dtype) return shareData(args.backend, x);
    return native.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  };
  return {
    kernelName: Cast,
    backendName: 'wasm',
    setupFunc: native.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
