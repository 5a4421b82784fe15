/**
 * @netaug/backend-native — the tfjs backend `native`: tfjs-backend-cpu with the heavy training kernels
 * (convolutions and their gradients, depthwise convolutions, matmul, the fused batch norm, ReLU/ReLU6) in a
 * multithreaded N-API addon built on oneDNN. `initBackend` of @netaug/backend picks it after tfjs-node.
 */
export {
  registerNativeBackend,
  nativeInfo,
  nativeAddon,
  NATIVE_BACKEND,
  NATIVE_KERNELS,
  type NativeBackendOptions,
  type NativeInfo,
} from './register';
export { findAddon, type NativeAddon, type PrimitiveCacheStats } from './addon';
export { convGeometry } from './kernels/conv';
export { SGD_UPDATE, type SgdUpdateAttrs } from './kernels/optim';
