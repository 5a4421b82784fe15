/**
 * @netaug/exporters — ModelIR → TensorFlow.js LayersModel, ONNX, TFLite float32 / int8; ONNX weights → ModelIR
 * (`importOnnx`); a reference executor; verification in onnxruntime-node, LiteRT.js and tfjs (optional peer
 * dependencies, loaded lazily).
 */
export { exportModel, type ExportModelOptions, type ExportResult } from './export-model';
export { EXPORT_FORMATS, SUPPORTED_OPS, assertSupported, type ExportFormat } from './support';
export {
  runModelIR,
  runModelIROutputs,
  activationFn,
  type RunModelIROptions,
} from './reference/run-model-ir';

export { exportTfjs } from './tfjs/export';
export { buildTfjsArtifacts, type TfjsExportOptions } from './tfjs/topology';
export {
  fsIOHandler,
  DEFAULT_SHARD_BYTES,
  type FsIOHandler,
  type TfjsArtifacts,
  type TfjsModelJson,
  type WeightSpec,
} from './tfjs/fs-io-handler';
export { loadTfjsModel, type LoadedTfjsModel } from './tfjs/load';

export { exportOnnx, buildOnnx, type OnnxExportOptions } from './onnx/export';
export { importOnnx, type OnnxImportOptions, type OnnxImportResult } from './onnx/import';

export {
  exportTflite,
  buildTflite,
  buildTfliteModel,
  type TfliteExportOptions,
  type TfliteQuantizeOptions,
} from './tflite/export';
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

export { verifyOnnx, type VerifyOnnxOptions } from './verify/onnx';
export { verifyTflite } from './verify/tflite';
export type { VerifyOptions, VerifyResult } from './verify/types';
export { verifyTfjs } from './verify/tfjs';
export { compareOutputs, compareAllOutputs, maxAbsDiff, argmax, type Comparison } from './verify/compare';

export { writeFileAtomic, type WrittenFiles } from './atomic-write';
export { toCHeader, type CHeaderOptions } from './c-header';
