/**
 * The project's own fused kernels, declared once (as tfjs-core's `kernel_names.ts` declares tfjs' kernels): the
 * contract between the packages that call them (`batchNormTrain` and the ReLU6 gradient of @netaug/backend, the
 * `Sgd` of @netaug/trainer) and the backends that implement them (@netaug/backend's wasm kernels,
 * @netaug/backend-native). Plain names and attribute types: no tfjs here.
 */

/**
 * Training batch norm over NHWC `x`: inputs `{ x, gamma, beta }`, attrs {@link BatchNormTrainAttrs}, outputs
 * `[y, mean, variance]` (batch statistics; variance biased, divided by N·H·W).
 */
export const BATCH_NORM_TRAIN = 'NetAugBatchNormTrain';
/**
 * Its gradient: inputs `{ dy, x, gamma, mean, variance, dmean, dvariance }`, attrs {@link BatchNormTrainAttrs},
 * outputs `[dx, dgamma, dbeta]`.
 */
export const BATCH_NORM_TRAIN_GRAD = 'NetAugBatchNormTrainGrad';
/** {@link BATCH_NORM_TRAIN} with a ReLU / ReLU6 after it: attrs {@link BatchNormActTrainAttrs}, outputs `[act(y), mean, variance]`. */
export const BATCH_NORM_ACT_TRAIN = 'NetAugBatchNormActTrain';
/**
 * Its gradient: inputs `{ dy, x, y, gamma, mean, variance, dmean, dvariance }` with `y` the forward's activated
 * output (act' is read from it), outputs `[dx, dgamma, dbeta]`.
 */
export const BATCH_NORM_ACT_TRAIN_GRAD = 'NetAugBatchNormActTrainGrad';
/** ReLU6's gradient in one kernel: inputs `{ dy, x }`, output `dy · (0 < x ≤ 6)`. */
export const RELU6_GRAD = 'NetAugRelu6Grad';
/**
 * One SGD update of one variable: inputs `{ w, g, buf }`, attrs {@link SgdUpdateAttrs}, outputs `[w', buf']`,
 * computed operation by operation in float32 exactly as @netaug/trainer's `Sgd` does with tf ops.
 */
export const SGD_UPDATE = 'NetAugSgdUpdate';

/** Attributes of {@link BATCH_NORM_TRAIN} and {@link BATCH_NORM_TRAIN_GRAD}. */
export interface BatchNormTrainAttrs {
  epsilon: number;
}

/** Attributes of {@link BATCH_NORM_ACT_TRAIN} and {@link BATCH_NORM_ACT_TRAIN_GRAD}. */
export interface BatchNormActTrainAttrs extends BatchNormTrainAttrs {
  activation: 'relu' | 'relu6';
}

/** Attributes of {@link SGD_UPDATE}: `weightDecay` 0 means none. */
export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Every fused kernel name of the project. */
export const NETAUG_KERNEL_NAMES = [
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  BATCH_NORM_ACT_TRAIN,
  BATCH_NORM_ACT_TRAIN_GRAD,
  RELU6_GRAD,
  SGD_UPDATE,
] as const;
