import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { allocF32, heapF32, wasmMatMul, withShape, type WasmBackendLike } from '../wasm-backend';
import { transposeInto } from '../transpose';

/**
 * Builds a replacement for tfjs-backend-wasm's own `Conv2DBackpropInput` (a scalar C++ loop): 1×1 stride-1
 * unpadded NHWC float32 convolutions — every pointwise conv of a MobileNetV2 — become one XNNPACK matmul
 * `dx[N·H·W, inC] = dy[N·H·W, outC] · Wᵀ` (measured 10–20× faster); everything else goes to `native`.
 * The native kernel's `setupFunc` is kept so the backend still initialises it.
 */
export function makeConv2DBackpropInputConfig(native: KernelConfig): KernelConfig {
  const kernelFunc = (args: {
    inputs: Conv2DBackpropInputInputs;
    backend: WasmBackendLike;
    attrs: Conv2DBackpropInputAttrs;
  }) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
    if (
      dy.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      (dataFormat == null || dataFormat === 'NHWC')
    ) {
      const info = backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      if (
        info.filterHeight === 1 &&
        info.filterWidth === 1 &&
        info.strideHeight === 1 &&
        info.strideWidth === 1 &&
        info.padInfo.top === 0 &&
        info.padInfo.left === 0 &&
        info.outHeight === info.inHeight &&
        info.outWidth === info.inWidth
      ) {
        return pointwiseInputGrad(backend, dy, filter, info, inputShape);
      }
    }
    return native.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  };
  return {
    kernelName: Conv2DBackpropInput,
    backendName: 'wasm',
    setupFunc: native.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

function pointwiseInputGrad(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: number[],
): TensorInfo {
  const M = info.batchSize * info.inHeight * info.inWidth;
  const cin = info.inChannels;
  const cout = info.outChannels;
  const wT = allocF32(backend, [1, cout, cin]);
  transposeInto(heapF32(backend, filter), 0, heapF32(backend, wT), 0, cin, cout);
  const prod = wasmMatMul(backend, withShape(dy, [1, M, cout]), wT);
  backend.disposeData(wT.dataId);
  return { dataId: prod.dataId, shape: inputShape, dtype: 'float32' };
}
