/**
 * Conv2D / DepthwiseConv2dNative and their input / filter gradients on oneDNN (NHWC activations, HWIO
 * filters; depthwise as a grouped convolution with one group per input channel).
 */
import * as tf from '@tensorflow/tfjs-core';
import { f32Values, sizeOf, type KernelArgs, type KernelContext } from './common';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: Rounding;
  inputShape?: Shape4;
  filterShape?: Shape4;
}

const enum Mode {
  Forward = 0,
  BackwardData = 1,
  BackwardFilter = 2,
}

/**
 * The trailing pad oneDNN needs so that `out = ⌊(in − eff + before + after) / stride⌋ + 1` holds (oneDNN
 * checks it; tfjs may round the output size differently), or null when no non-negative pad works.
 */
function trailingPad(
  inSize: number,
  eff: number,
  stride: number,
  before: number,
  after: number,
  out: number,
) {
  const fits = (p: number) => p >= 0 && Math.floor((inSize - eff + before + p) / stride) + 1 === out;
  if (fits(after)) return after;
  const p = (out - 1) * stride + eff - inSize - before;
  return fits(p) ? p : null;
}

/** The Int32Array geometry of `conv()` (see src/native/conv.cc), or null when oneDNN cannot express it. */
export function convGeometry(info: tf.backend_util.Conv2DInfo, depthwise: boolean): Int32Array | null {
  const p = info.padInfo;
  if (info.dataFormat !== 'channelsLast' || p.top < 0 || p.left < 0) return null;
  if (info.outHeight < 1 || info.outWidth < 1 || info.batchSize < 1 || info.inChannels < 1) return null;
  const pb = trailingPad(
    info.inHeight,
    info.effectiveFilterHeight,
    info.strideHeight,
    p.top,
    p.bottom,
    info.outHeight,
  );
  const pr = trailingPad(
    info.inWidth,
    info.effectiveFilterWidth,
    info.strideWidth,
    p.left,
    p.right,
    info.outWidth,
  );
  if (pb == null || pr == null) return null;
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.left,
    pb,
    pr,
    depthwise ? info.inChannels : 1,
  ]);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function convInfo(
  kernel: string,
  inShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo | null {
  if (attrs.dataFormat === 'NCHW' || inShape.length !== 4 || filterShape.length !== 4) return null;
  // tfjs' own kernels: the plain conv gradients ignore dilations
  const dilations =
    kernel === 'Conv2DBackpropInput' || kernel === 'Conv2DBackpropFilter' ? 1 : (attrs.dilations ?? 1);
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

function makeConvKernel(kernelName: string, mode: Mode, depthwise: boolean) {
  return (ctx: KernelContext) =>
    (args: KernelArgs<string, ConvAttrs>): tf.TensorInfo | tf.TensorInfo[] => {
      const { inputs, backend, attrs } = args;
      const fallback = () => ctx.fallback(kernelName, args);
      let a: tf.TensorInfo, b: tf.TensorInfo, info: tf.backend_util.Conv2DInfo | null;
      if (mode === Mode.Forward) {
        a = inputs.x;
        b = inputs.filter;
        info = convInfo(kernelName, a.shape, b.shape, attrs, depthwise);
      } else if (mode === Mode.BackwardData) {
        a = inputs.dy;
        b = inputs.filter;
        if (attrs.inputShape == null) return fallback();
        info = convInfo(kernelName, attrs.inputShape, b.shape, attrs, depthwise);
        if (info != null && !sameShape(a.shape, info.outShape)) return fallback(); // tfjs reports the mismatch
      } else {
        a = inputs.x;
        b = inputs.dy;
        if (attrs.filterShape == null) return fallback();
        info = convInfo(kernelName, a.shape, attrs.filterShape, attrs, depthwise);
        if (info != null && !sameShape(b.shape, info.outShape)) return fallback();
      }
      const av = f32Values(backend, a);
      const bv = f32Values(backend, b);
      const dims = info != null ? convGeometry(info, depthwise) : null;
      if (info == null || dims == null || av == null || bv == null) return fallback();
      const outShape =
        mode === Mode.Forward
          ? info.outShape
          : mode === Mode.BackwardData
            ? info.inShape
            : attrs.filterShape!;
      const out = ctx.alloc(sizeOf(outShape));
      ctx.addon.conv(mode, av, bv, out, dims);
      return backend.makeTensorInfo([...outShape], 'float32', out);
    };
}

export const convKernels = {
  Conv2D: makeConvKernel('Conv2D', Mode.Forward, false),
  Conv2DBackpropInput: makeConvKernel('Conv2DBackpropInput', Mode.BackwardData, false),
  Conv2DBackpropFilter: makeConvKernel('Conv2DBackpropFilter', Mode.BackwardFilter, false),
  DepthwiseConv2dNative: makeConvKernel('DepthwiseConv2dNative', Mode.Forward, true),
  DepthwiseConv2dNativeBackpropInput: makeConvKernel(
    'DepthwiseConv2dNativeBackpropInput',
    Mode.BackwardData,
    true,
  ),
  DepthwiseConv2dNativeBackpropFilter: makeConvKernel(
    'DepthwiseConv2dNativeBackpropFilter',
    Mode.BackwardFilter,
    true,
  ),
};
