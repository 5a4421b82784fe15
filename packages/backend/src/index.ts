/**
 * @netaug/backend — picks the fastest available tfjs backend (tensorflow → native → wasm → cpu), registers the
 * gradient functions training needs (tfjs-core alone has none), and adds the gradient kernels tfjs-backend-wasm
 * lacks, so networks train on wasm.
 */
export { initBackend } from './init-backend';
export type { InitBackendOptions, InitBackendResult, BackendAttempt } from './init-backend';
export { describeBackend } from './describe-backend';
export { BACKEND_NAMES, type BackendName } from './backend-names';
export { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm/register-wasm-gradient-kernels';
export type { RegisterWasmGradientKernelsOptions } from './wasm/register-wasm-gradient-kernels';
export {
  batchNormTrain,
  batchNormTrainOps,
  registerBatchNormTrainKernels,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  BATCH_NORM_ACT_TRAIN,
  BATCH_NORM_ACT_TRAIN_GRAD,
} from './batch-norm-train';
export type { BatchNormTrainResult, BatchNormActivation } from './batch-norm-train';
export { recompute, isRecomputing } from './recompute';
export {
  registerTrainingGradients,
  TRAINING_GRADIENTS,
  TRAINING_GRADIENT_KERNELS,
} from './gradients';
