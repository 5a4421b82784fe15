/**
 * The names other packages and the CLI iterate over, declared once here (core is dependency-free, so the CLI can
 * list them without loading tfjs or the exporters).
 */

/** tfjs backends `initBackend` of @netaug/backend knows, in its default order of preference. */
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

/** Export formats of @netaug/exporters, in the order they are documented. */
export const EXPORT_FORMATS = ['tfjs', 'onnx', 'tflite', 'tflite-int8'] as const;

/** The export targets of @netaug/exporters. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The file each export format writes by default (tfjs: `model.json` and its weight shards). */
export const EXPORT_FORMAT_FILES: Readonly<Record<ExportFormat, string>> = {
  tfjs: 'model.json',
  onnx: 'model.onnx',
  tflite: 'model.tflite',
  'tflite-int8': 'model_int8.tflite',
};

/** True when `name` is one of {@link EXPORT_FORMATS}. */
export function isExportFormat(name: string): name is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(name);
}

/** `a, b, c or d` — how help texts list names. */
export function orList(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
