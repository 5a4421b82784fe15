import * as tf from '@tensorflow/tfjs-core';
import * as ew from './elementwise';
import * as nn from './nn';
import * as shape from './shape';
import * as reduce from './reduce';

/**
 * Gradient functions of the tfjs kernels NetAug.js training differentiates, written from the maths with
 * tfjs-core's public ops (convolutions and max pooling call the backends' backprop kernels).
 *
 * Which kernels training needs was measured (2026-12, tfjs 4.22) by wrapping every registered gradient function
 * and running `computeGradients` + an SGD update of the trainer for each zoo family — mobilenetv2-tiny
 * (small-input 32×32 and ImageNet form 48×48), mcunet, proxylessnas (small input), mobilenetv3 (both forms:
 * hswish / hsigmoid, squeeze-excite), resnet18 (small input, and the ImageNet form with its max-pool stem) —
 * with the baseline, NetAug + label smoothing (recompute off and on), knowledge distillation (a separate
 * teacher, and a teacher depending on the student), NetAug + distillation with recompute, and batch norm
 * with frozen statistics (fine-tuning `bnTraining: false`), on the `cpu`, `wasm` and `native` backends; and the
 * detector's training step (@netaug/detector, FCOS losses, feature-pyramid upsampling) on cpu and wasm.
 * Gradient functions called:
 *
 * - every classifier step: `Add`, `AddN`, `BatchMatMul` (1×1 convs, global pooling, classifier), `Conv2D`,
 *   `Mean`, `Multiply`, `Neg`, `Reshape`, `Slice` (first-channel slices; the cpu backend slices non-contiguous
 *   blocks in a customGrad), `Sum`, and the fused batch norm `NetAugBatchNormTrain` /
 *   `NetAugBatchNormActTrain` (native) whose gradients `batchNormTrain` registers itself;
 * - `DepthwiseConv2dNative` on wasm and native (the cpu backend differentiates it in a customGrad);
 * - `Relu6` (MobileNets), `Relu` (ResNet, squeeze-excite, and after batch norm on cpu/wasm), `RealDiv`
 *   (hswish / hsigmoid, the distillation temperature), `Sub` (distillation), `MaxPool` (ResNet ImageNet
 *   stem), `FusedBatchNorm` (`tf.batchNorm` with frozen statistics; a teacher that is the student),
 *   `Softmax` (a teacher that depends on the student's weights);
 * - the detector besides: `Abs`, `ClipByValue`, `Exp`, `Maximum`, `Minimum`, `ResizeNearestNeighbor`,
 *   `Sigmoid`, `Softplus`, `Square`.
 *
 * `tf.logSoftmax` (cross-entropy, distillation) differentiates itself (a customGrad in tfjs-core 4.22), as do
 * `recompute` segments. Registered besides, because they are one line of maths each and next to the ones
 * above: `SquaredDifference`, `Pow`, `Sqrt`, `Rsqrt`, `Reciprocal`, `Log`, `Log1p`, `LeakyRelu`, `Tanh`,
 * `Select`, `AvgPool`, `ExpandDims`, `Transpose`, `Cast`, `Identity`, `PadV2`, `Concat`, `Pack`, `Unpack`,
 * `SplitV`, `Tile`, `Max`, `Min`. Each is tested against float64 finite differences (test/gradients.test.ts).
 */
export const TRAINING_GRADIENTS: readonly tf.GradConfig[] = [
  // elementwise, binary (broadcasting)
  ew.addGradient,
  ew.subGradient,
  ew.multiplyGradient,
  ew.realDivGradient,
  ew.maximumGradient,
  ew.minimumGradient,
  ew.squaredDifferenceGradient,
  ew.powGradient,
  ew.addNGradient,
  // elementwise, unary
  ew.negGradient,
  ew.squareGradient,
  ew.sqrtGradient,
  ew.rsqrtGradient,
  ew.reciprocalGradient,
  ew.expGradient,
  ew.logGradient,
  ew.log1pGradient,
  ew.absGradient,
  ew.reluGradient,
  ew.relu6Gradient,
  ew.leakyReluGradient,
  ew.sigmoidGradient,
  ew.tanhGradient,
  ew.softplusGradient,
  ew.clipByValueGradient,
  ew.selectGradient,
  // network layers
  nn.conv2DGradient,
  nn.depthwiseConv2dNativeGradient,
  nn.batchMatMulGradient,
  nn.maxPoolGradient,
  nn.avgPoolGradient,
  nn.softmaxGradient,
  nn.fusedBatchNormGradient,
  nn.resizeNearestNeighborGradient,
  // shapes and copies
  shape.reshapeGradient,
  shape.expandDimsGradient,
  shape.transposeGradient,
  shape.castGradient,
  shape.identityGradient,
  shape.sliceGradient,
  shape.padV2Gradient,
  shape.concatGradient,
  shape.packGradient,
  shape.unpackGradient,
  shape.splitVGradient,
  shape.tileGradient,
  // reductions
  reduce.sumGradient,
  reduce.meanGradient,
  reduce.maxGradient,
  reduce.minGradient,
];

/** Kernel names of {@link TRAINING_GRADIENTS}. */
export const TRAINING_GRADIENT_KERNELS: readonly string[] = TRAINING_GRADIENTS.map((g) => g.kernelName);

/**
 * Registers {@link TRAINING_GRADIENTS} — every gradient NetAug.js training needs, so `@tensorflow/tfjs-core`
 * alone trains (no `@tensorflow/tfjs-layers`, `@tensorflow/tfjs` or `register_all_gradients`). A kernel that
 * already has a gradient (tfjs' own, loaded by one of those packages, or any other) keeps it. Global for every
 * backend; idempotent. Returns the kernel names registered by this call.
 */
export function registerTrainingGradients(): string[] {
  const registered: string[] = [];
  for (const config of TRAINING_GRADIENTS) {
    if (tf.getGradient(config.kernelName) != null) continue;
    tf.registerGradient(config);
    registered.push(config.kernelName);
  }
  return registered;
}
