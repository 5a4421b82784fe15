import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_ACT_TRAIN, BATCH_NORM_ACT_TRAIN_GRAD, NetAugError } from '@netaug/core';
import { bnBackward, bnForward } from './batch-norm-core';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  batchNormTrainWasmConfigs,
} from './wasm/kernels/batch-norm-train';

export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD };

/**
 * Kernel names of training batch norm with a ReLU / ReLU6 fused after it (attrs `epsilon`, `activation`).
 * Backends may register them (the `native` backend of @netaug/backend-native does); the forward returns
 * `[act(y), mean, variance]`, the gradient kernel takes `{dy, x, y, gamma, mean, variance, dmean, dvariance}` with
 * `y` the forward's (activated) output and returns `[dx, dgamma, dbeta]`.
 */
export { BATCH_NORM_ACT_TRAIN, BATCH_NORM_ACT_TRAIN_GRAD };

/** Activations {@link batchNormTrain} can apply after the normalisation. */
export type BatchNormActivation = 'relu' | 'relu6';

/** Result of {@link batchNormTrain}. */
export interface BatchNormTrainResult<T extends tf.Tensor> {
  /** `act((x − mean) / √(variance + ε) · gamma + beta)` (no act unless one is given), the shape of `x`. */
  y: T;
  /** Batch mean per channel, `[C]`. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel (divided by N·H·W, as PyTorch normalises with), `[C]`. */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalisation over every axis but the last (channels-last, e.g. NHWC), as one op:
 * returns the normalised `y` and the batch `mean` / biased `variance` (for running statistics).
 *
 * On the `wasm` and `cpu` backends it runs as two registered kernels — a forward that computes the channel
 * moments in one pass over `x` and writes `y` in a second, and a hand-written backward (`dx`, `dgamma`,
 * `dbeta` in two passes over `x` and `dy`) — so the tape holds one node instead of ~15 and no `[N·H·W, C]`
 * temporaries. Gradients also flow through `mean` and `variance` if they are used. On other backends
 * (tfjs-node) the same maths runs as plain tf ops ({@link batchNormTrainOps}).
 *
 * `activation` (`relu` / `relu6`) is applied to `y`: in one kernel on backends that register
 * {@link BATCH_NORM_ACT_TRAIN} (no separate activation pass, and its gradient is folded into the batch-norm
 * gradient), else as `tf.relu` / `tf.relu6` after the batch norm.
 */
export function batchNormTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
  activation?: BatchNormActivation,
): BatchNormTrainResult<T> {
  check(x, gamma, beta, epsilon);
  if (activation !== undefined && activation !== 'relu' && activation !== 'relu6') {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `batchNormTrain: activation must be relu or relu6, got ${String(activation)}`,
    );
  }
  registerBatchNormTrainKernels();
  const backendName = tf.getBackend();
  if (activation !== undefined) {
    if (tf.getKernel(BATCH_NORM_ACT_TRAIN, backendName) != null) {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_ACT_TRAIN, { x, gamma, beta }, { epsilon, activation }) as tf.Tensor[];
      return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
    }
    const r = batchNormTrain(x, gamma, beta, epsilon);
    return { ...r, y: (activation === 'relu' ? tf.relu(r.y) : tf.relu6(r.y)) as T };
  }
  if (tf.getKernel(BATCH_NORM_TRAIN, backendName) == null) return batchNormTrainOps(x, gamma, beta, epsilon);
  const [y, mean, variance] = tf
    .engine()
    .runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * The same as {@link batchNormTrain} with plain tf ops (moments by `tf.moments`, `y` by a `tf.customGrad`
 * whose backward is the closed-form batch-norm gradient). Used on backends without the fused kernels.
 */
export function batchNormTrainOps<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
): BatchNormTrainResult<T> {
  check(x, gamma, beta, epsilon);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const rows = x.size / x.shape[x.shape.length - 1];
  const { mean, variance } = tf.moments(x, axes);
  const normalise = tf.customGrad((...args: unknown[]) => {
    const [xi, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    save([xi, g, mean, invStd]);
    const value = tf.add(tf.mul(tf.sub(xi, mean), tf.mul(invStd, g)), b);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sg, smean, sinv] = saved;
      const xhat = tf.mul(tf.sub(sx, smean), sinv);
      const dbeta = tf.sum(dy, axes);
      const dgamma = tf.sum(tf.mul(dy, xhat), axes);
      const dx = tf.mul(
        tf.mul(sg, sinv),
        tf.sub(tf.sub(dy, tf.div(dbeta, rows)), tf.mul(xhat, tf.div(dgamma, rows))),
      );
      return [dx, dgamma, dbeta];
    };
    return { value, gradFunc };
  });
  const y = normalise(x, gamma, beta) as T;
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

function check(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): void {
  const C = x.shape[x.shape.length - 1];
  if (x.rank < 2 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `batchNormTrain: x [${x.shape}] needs rank ≥ 2 with gamma and beta of shape [${C}], got [${gamma.shape}] and [${beta.shape}]`,
    );
  }
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32') {
    throw new NetAugError('UNSUPPORTED_OP', 'batchNormTrain supports float32 tensors only');
  }
  if (!(epsilon > 0))
    throw new NetAugError('INVALID_ARGUMENT', `batchNormTrain: epsilon must be > 0, got ${epsilon}`);
}

let gradientRegistered = false;

/** Registers the gradients of the fused forward kernels (global, for every backend that has the kernels). */
function ensureGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  // plain: saved [x, gamma, mean, variance]; with activation also its output y (the activation's derivative)
  if (tf.getGradient(BATCH_NORM_TRAIN) == null)
    registerFusedGradient(BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, false);
  if (tf.getGradient(BATCH_NORM_ACT_TRAIN) == null)
    registerFusedGradient(BATCH_NORM_ACT_TRAIN, BATCH_NORM_ACT_TRAIN_GRAD, true);
}

function registerFusedGradient(kernelName: string, gradKernel: string, withAct: boolean): void {
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [withAct, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [dy, dmean, dvariance] = dys as tf.Tensor[];
      const [x, gamma, ...outs] = saved;
      const y = withAct ? outs.shift() : undefined;
      const [mean, variance] = outs;
      // One kernel computes all three gradients. It runs here, not lazily in the closures: the engine calls
      // each closure in its own tidy, which would dispose the two outputs that closure does not return.
      const inputs: tf.NamedTensorMap = { dy, x, gamma, mean, variance, dmean, dvariance };
      if (y) inputs.y = y;
      const [dx, dgamma, dbeta] = tf.engine().runKernel(gradKernel, inputs, {
        epsilon: attrs.epsilon,
        ...(withAct ? { activation: attrs.activation } : {}),
      }) as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
}

// ---- cpu kernels (same loops on the cpu backend's arrays) ----

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

function cpuValues(backend: CpuBackendLike, t: tf.TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array))
    throw new NetAugError('UNSUPPORTED_OP', 'batchNormTrain supports float32 tensors only');
  return v;
}

function batchNormTrainCpu(args: {
  inputs: { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  backend: CpuBackendLike;
  attrs: { epsilon: number };
}): tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const C = inputs.x.shape[inputs.x.shape.length - 1];
  const xv = cpuValues(backend, inputs.x);
  const y = new Float32Array(xv.length);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  bnForward(
    xv,
    cpuValues(backend, inputs.gamma),
    cpuValues(backend, inputs.beta),
    attrs.epsilon,
    C,
    y,
    mean,
    variance,
  );
  return [
    backend.makeTensorInfo(inputs.x.shape, 'float32', y),
    backend.makeTensorInfo([C], 'float32', mean),
    backend.makeTensorInfo([C], 'float32', variance),
  ];
}

function batchNormTrainGradCpu(args: {
  inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', tf.TensorInfo>;
  backend: CpuBackendLike;
  attrs: { epsilon: number };
}): tf.TensorInfo[] {
  const { inputs: t, backend, attrs } = args;
  const C = t.x.shape[t.x.shape.length - 1];
  const v = (u: tf.TensorInfo) => cpuValues(backend, u);
  const dx = new Float32Array(v(t.x).length);
  const dgamma = new Float32Array(C);
  const dbeta = new Float32Array(C);
  bnBackward(
    v(t.dy),
    v(t.x),
    v(t.gamma),
    v(t.mean),
    v(t.variance),
    v(t.dmean),
    v(t.dvariance),
    attrs.epsilon,
    C,
    dx,
    dgamma,
    dbeta,
  );
  return [
    backend.makeTensorInfo(t.x.shape, 'float32', dx),
    backend.makeTensorInfo([C], 'float32', dgamma),
    backend.makeTensorInfo([C], 'float32', dbeta),
  ];
}

/** Registration records of the fused batch norm for the cpu backend. */
export const batchNormTrainCpuConfigs: readonly tf.KernelConfig[] = [
  {
    kernelName: BATCH_NORM_TRAIN,
    backendName: 'cpu',
    kernelFunc: batchNormTrainCpu as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName: 'cpu',
    kernelFunc: batchNormTrainGradCpu as unknown as tf.KernelFunc,
  },
];

let cpuRegistered = false;

/**
 * Registers the fused batch-norm kernels for `wasm` (also done by `registerWasmGradientKernels`) and `cpu`,
 * and its gradient. Idempotent; `initBackend` calls it.
 */
export function registerBatchNormTrainKernels(): void {
  if (cpuRegistered && gradientRegistered) return;
  cpuRegistered = true;
  for (const config of [...batchNormTrainCpuConfigs, ...batchNormTrainWasmConfigs]) {
    if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
  }
  ensureGradient();
}
