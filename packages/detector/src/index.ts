export { levelLayout, defaultSizeRanges, countLocations, locations, type Level } from './levels';
export { assignTargets, assignBatchTargets, type TargetOptions, type FcosTargets } from './targets';
export {
  bceWithLogits,
  sigmoidFocalLoss,
  giouLossLtrb,
  fcosLoss,
  MAX_LOG_DISTANCE,
  type FocalLossOptions,
  type FcosLossOptions,
  type FcosLoss,
} from './losses';
export {
  Detector,
  createDetector,
  upsampleNearest,
  DETECTOR_OUTPUT_LAYOUT,
  type DetectorOptions,
  type DetectorHeadPlan,
} from './detector';
export {
  decodeDetections,
  decodeRaw,
  rawToMaps,
  concatRawOutputs,
  type RawDetectorOutputs,
  type DetectorDecodeOptions,
  type DetectionMaps,
} from './decode';
export {
  detectionStep,
  type DetectionBatch,
  type DetectionStepInput,
  type DetectionStepResult,
} from './step';
export {
  DetectionLoader,
  detectionTask,
  evaluateOutputs,
  type EvaluateOutputsOptions,
  type DetectionLoaderBatch,
  type DetectionLoaderOptions,
  type DetectionTaskOptions,
} from './task';
export {
  trainDetector,
  evaluateDetector,
  prepareImages,
  reestimateDetectorBatchNorm,
  type TrainDetectorOptions,
  type TrainDetectorResult,
  type EpochRecord,
  type EvaluateDetectorOptions,
  type DetectorEvaluation,
  type PreparedImages,
} from './train';
