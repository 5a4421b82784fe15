/** Backends `initBackend` knows, in its default order of preference. */
export const BACKEND_NAMES = ['tensorflow', 'native', 'wasm', 'cpu'] as const;

/**
 * `tensorflow` (tfjs-node-gpu / tfjs-node), `native` (`@netaug/backend-native`: the cpu backend with oneDNN /
 * OpenBLAS kernels in an N-API addon), `wasm` (tfjs-backend-wasm, XNNPACK) or `cpu` (plain JS).
 */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** True when `name` is one of {@link BACKEND_NAMES}. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}
