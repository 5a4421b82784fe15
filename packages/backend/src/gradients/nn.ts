import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import { gradient, unbroadcast } from './util';

function checkNoDilation(kernel: string, dilations: unknown): void {
  const d =
    dilations == null ? [1] : Array.isArray(dilations) ? (dilations as number[]) : [dilations as number];
  if (d.some((v) => v !== 1)) {
    throw new NetAugError(
      'UNSUPPORTED_OP',
      `gradient of ${kernel}: dilations [${d}] are not supported (only 1)`,
    );
  }
}

/**
 * 2-D convolution `y = x ⋆ w`: `dx` is the transposed convolution of `dy` with `w` (kernel
 * `Conv2DBackpropInput`), `dw` the correlation of `x` with `dy` (kernel `Conv2DBackpropFilter`), both with the
 * forward's strides / padding / data format.
 */
export const conv2DGradient = gradient('Conv2D', { inputs: ['x', 'filter'] }, (dy, [x, filter], attrs) => {
  checkNoDilation('Conv2D', attrs.dilations);
  const { strides, pad, dataFormat, dimRoundingMode } = attrs;
  return {
    x: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter },
          { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape },
        ) as tf.Tensor,
    filter: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape },
        ) as tf.Tensor,
  };
});

/** Depthwise convolution: the same two products per channel (`DepthwiseConv2dNativeBackpropInput` / `…Filter`). */
export const depthwiseConv2dNativeGradient = gradient(
  'DepthwiseConv2dNative',
  { inputs: ['x', 'filter'] },
  (dy, [x, filter], attrs) => {
    checkNoDilation('DepthwiseConv2dNative', attrs.dilations);
    const { strides, pad, dimRoundingMode } = attrs;
    const dilations = [1, 1];
    return {
      x: () =>
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy, filter },
            { strides, pad, dilations, dimRoundingMode, inputShape: x.shape },
          ) as tf.Tensor,
      filter: () =>
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x, dy },
            { strides, pad, dilations, dimRoundingMode, filterShape: filter.shape },
          ) as tf.Tensor,
    };
  },
);

/**
 * Batched matrix product `C = op(A)·op(B)` (`op` = optional transpose of the last two axes): with
 * `C = A·B`, `dA = dC·Bᵀ` and `dB = Aᵀ·dC`; the transposed forms follow from `d(Xᵀ) = (dX)ᵀ`. A batch axis of
 * size 1 that was broadcast is summed back.
 */
export const batchMatMulGradient = gradient('BatchMatMul', { inputs: ['a', 'b'] }, (dy, [a, b], attrs) => {
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  const da = () =>
    tA ? tf.matMul(b, dy, tB, true) /* (dC·op(B)ᵀ)ᵀ = op(B)·dCᵀ */ : tf.matMul(dy, b, false, !tB);
  const db = () =>
    tB ? tf.matMul(dy, a, true, tA) /* (op(A)ᵀ·dC)ᵀ = dCᵀ·op(A) */ : tf.matMul(a, dy, !tA, false);
  return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
});

/** Max pooling: `dy` goes to the position of each window's maximum (kernel `MaxPoolGrad`). */
export const maxPoolGradient = gradient(
  'MaxPool',
  { inputs: ['x'], outputs: [true] },
  (dy, [x, y], attrs) => {
    const { filterSize, strides, pad, dimRoundingMode } = attrs;
    return {
      x: () =>
        tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy, input: x, output: y },
            { filterSize, strides, pad, dimRoundingMode },
          ) as tf.Tensor,
    };
  },
);

/**
 * Average pooling `y = Σ_window x / n`, `n` the number of in-bounds elements of the window (padding is not
 * counted, as in the forward): `dx = Σ over the windows containing x of dy / n` — the input gradient of a
 * depthwise convolution with an all-ones filter (`DepthwiseConv2dNativeBackpropInput`, same geometry) applied
 * to `dy / n`. (tfjs-backend-cpu's `AvgPoolGrad` kernel divides by the full window size at the borders of
 * `same` padding, where the forward divides by the in-bounds count, so it is not used.)
 */
export const avgPoolGradient = gradient('AvgPool', { inputs: ['x'] }, (dy, [x], attrs) => {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return {
    x: () => {
      const info = tf.backend_util.computePool2DInfo(
        x.shape as [number, number, number, number],
        filterSize as number | [number, number],
        strides as number | [number, number],
        1,
        pad as 'same' | 'valid' | number,
        dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      );
      const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
      const { filterHeight: kh, filterWidth: kw, inChannels: c } = info;
      const inBounds = (o: number, stride: number, before: number, k: number, size: number) =>
        Math.min(o * stride - before + k, size) - Math.max(o * stride - before, 0);
      const inverseCount = new Float32Array(outHeight * outWidth);
      for (let i = 0; i < outHeight; i++) {
        const rows = inBounds(i, strideHeight, info.padInfo.top, kh, inHeight);
        for (let j = 0; j < outWidth; j++) {
          inverseCount[i * outWidth + j] =
            1 / (rows * inBounds(j, strideWidth, info.padInfo.left, kw, inWidth));
        }
      }
      const scaled = tf.mul(dy, tf.tensor4d(inverseCount, [1, outHeight, outWidth, 1]));
      return tf
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: scaled, filter: tf.ones([kh, kw, c, 1]) },
          { strides, pad, dilations: [1, 1], dimRoundingMode, inputShape: x.shape },
        ) as tf.Tensor;
    },
  };
});

/** `softmax(x) = y` along `dim`: `dx = y·(dy − Σ dy·y)`. */
export const softmaxGradient = gradient('Softmax', { outputs: [true] }, (dy, [y], attrs) => ({
  logits: () => {
    const dyy = tf.mul(dy, y);
    return tf.sub(dyy, tf.mul(tf.sum(dyy, [attrs.dim as number], true), y));
  },
}));

/**
 * Batch norm with given statistics (`tf.batchNorm`, kernel `FusedBatchNorm`; inference-mode BN inside a
 * training graph, e.g. fine-tuning with frozen statistics):
 * `y = (x − μ)·s·r + o` with `r = 1/√(σ² + ε)`:
 * `dx = dy·s·r`, `ds = Σ dy·(x − μ)·r`, `do = Σ dy`, `dμ = −Σ dy·s·r`, `dσ² = Σ dy·s·(x − μ)·(−½ r³)`,
 * sums over the axes the statistics are broadcast along. A missing scale is 1.
 */
export const fusedBatchNormGradient = gradient(
  'FusedBatchNorm',
  { inputs: ['x', 'mean', 'variance', 'scale'] },
  (dy, [x, mean, variance, scale], attrs) => {
    const eps = attrs.varianceEpsilon as number;
    const r = () => tf.rsqrt(tf.add(variance, eps));
    const s = (): tf.Tensor => scale ?? tf.scalar(1);
    return {
      x: () => unbroadcast(tf.mul(dy, tf.mul(s(), r())), x.shape),
      scale: () => unbroadcast(tf.mul(dy, tf.mul(tf.sub(x, mean), r())), scale!.shape),
      offset: () => unbroadcast(dy, mean.shape),
      mean: () => unbroadcast(tf.mul(dy, tf.neg(tf.mul(s(), r()))), mean.shape),
      variance: () => {
        const ri = r();
        const r3 = tf.mul(tf.mul(ri, ri), ri);
        return unbroadcast(
          tf.mul(tf.mul(dy, tf.sub(x, mean)), tf.mul(s(), tf.mul(r3, -0.5))),
          variance.shape,
        );
      },
    };
  },
);

/** Source index of every output index of a nearest-neighbour resize along one axis (tfjs' forward mapping). */
function nearestSources(
  outSize: number,
  inSize: number,
  alignCorners: boolean,
  halfPixel: boolean,
): number[] {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  return Array.from({ length: outSize }, (_, r) => {
    const frac = halfPixel ? ratio * (r + 0.5) : ratio * r;
    const s = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    return halfPixel ? Math.max(0, s) : s;
  });
}

/** `[inSize, outSize]` matrix with a 1 at `[sources[r], r]`. */
function selectionMatrix(sources: number[], inSize: number): tf.Tensor2D {
  const m = new Float32Array(inSize * sources.length);
  sources.forEach((s, r) => (m[s * sources.length + r] = 1));
  return tf.tensor2d(m, [inSize, sources.length]);
}

/**
 * Nearest-neighbour resize `y[b, r, s] = x[b, src(r), src(s)]`: every input pixel gets the sum of `dy` over the
 * output pixels copied from it. An integer upsampling (the detector's feature pyramid) sums `f×f` blocks;
 * any other size sums with two 0/1 selection matrices (`dx = Sₕ·dy·S_wᵀ` per image and channel). Written
 * from the forward's index mapping (tfjs-backend-cpu's `ResizeNearestNeighborGrad` ignores `halfPixelCenters`).
 */
export const resizeNearestNeighborGradient = gradient(
  'ResizeNearestNeighbor',
  { inputs: ['images'] },
  (dy, [images], attrs) => ({
    images: () => {
      const [n, ih, iw, c] = images.shape;
      const [, oh, ow] = dy.shape;
      const align = !!attrs.alignCorners;
      const half = !!attrs.halfPixelCenters;
      const rows = nearestSources(oh, ih, align, half);
      const cols = nearestSources(ow, iw, align, half);
      const fh = oh / ih;
      const fw = ow / iw;
      const blocks = (src: number[], f: number) =>
        Number.isInteger(f) && src.every((s, r) => s === Math.floor(r / f));
      if (blocks(rows, fh) && blocks(cols, fw)) {
        return tf.sum(tf.reshape(dy, [n, ih, fh, iw, fw, c]), [2, 4]);
      }
      let t = tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [oh, n * ow * c]);
      t = tf.reshape(tf.matMul(selectionMatrix(rows, ih), t), [ih, n, ow, c]);
      t = tf.reshape(tf.transpose(t, [2, 0, 1, 3]), [ow, ih * n * c]);
      t = tf.reshape(tf.matMul(selectionMatrix(cols, iw), t), [iw, ih, n, c]);
      return tf.transpose(t, [2, 1, 0, 3]);
    },
  }),
);
