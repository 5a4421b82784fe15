/**
 * @netaug/exporters, browser build (the `browser` export condition): ModelIR → ONNX / TFLite float32 and int8 /
 * TensorFlow.js artifacts as bytes in memory (`buildOnnx`, `buildTflite`, `buildTfjsArtifacts`), ONNX import from
 * bytes, the reference executor, int8 planning and simulation, the TFLite reader/writer, a C header. No Node
 * built-ins: the functions writing files (`exportModel`, `exportOnnx`, `exportTflite`, `exportTfjs`,
 * `fsIOHandler`) and the verifications in onnxruntime-node / LiteRT.js worker threads are in the Node build only.
 */
export { EXPORT_FORMATS, SUPPORTED_OPS, assertSupported, type ExportFormat } from './support';
export {
  runModelIR,
  runModelIROutputs,
  activationFn,
  type RunModelIROptions,
} from './reference/run-model-ir';

export { buildTfjsArtifacts, type TfjsExportOptions } from './tfjs/topology';
export type { TfjsArtifacts, TfjsModelJson, WeightSpec } from './tfjs/fs-io-handler';

export { buildOnnx, type OnnxExportOptions } from './onnx/build';
export { importOnnx, type OnnxImportOptions, type OnnxImportResult } from './onnx/import';

export {
  buildTflite,
  buildTfliteModel,
  type TfliteExportOptions,
  type TfliteQuantizeOptions,
} from './tflite/build';
export { simulateInt8, simulateInt8Outputs } from './tflite/simulate';
export { planInt8, type Int8Plan, type Int8LayerPlan, type WeightGranularityOptions } from './tflite/plan';
export {
  calibrate,
  activationQuantParams,
  quantizePerChannel,
  quantizePerTensorSymmetric,
  quantizeBias,
  measureWeightNoise,
  chooseWeightGranularity,
  type CalibrationRanges,
  type QuantParams,
  type WeightGranularity,
  type WeightNoise,
} from './tflite/quantize';
export { readTfliteModel, type ReadTfliteModel, type ReadTensor } from './tflite/schema-reader';
export {
  writeTfliteModel,
  type TflModel,
  type TflTensor,
  type TflOperator,
  type TflOptions,
  type TflQuantization,
} from './tflite/schema-writer';
export { compareOutputs, compareAllOutputs, maxAbsDiff, argmax, type Comparison } from './verify/compare';
export { toCHeader, type CHeaderOptions } from './c-header';
