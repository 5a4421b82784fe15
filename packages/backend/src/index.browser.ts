/**
 * @netaug/backend, browser build (the `browser` export condition): `initBackend` activates the backend the
 * application imported (webgpu → webgl → wasm → cpu), registers the gradient functions training needs, and adds
 * the gradient kernels tfjs-backend-wasm lacks. No Node built-ins.
 */
export { initBackend, BROWSER_BACKEND_NAMES, BROWSER_BACKEND_PACKAGES } from './init-backend-browser';
export type {
  BrowserBackendName,
  BrowserInitBackendOptions,
  BrowserInitBackendResult,
  BrowserBackendAttempt,
} from './init-backend-browser';
export { describeBackend } from './describe-backend';
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
export { registerTrainingGradients, TRAINING_GRADIENTS, TRAINING_GRADIENT_KERNELS } from './gradients';
