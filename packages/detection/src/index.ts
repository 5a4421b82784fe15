export type {
  Rect,
  Box,
  Detection,
  DetectionSample,
  DetectionAnnotation,
  DetectionDataset,
  DetectionFormat,
  DetectionTransform,
} from './types';
export {
  boxArea,
  intersectionArea,
  iou,
  giou,
  toCorners,
  fromCorners,
  fromCenter,
  toCenter,
  clipBox,
} from './boxes';
export { letterboxParams, letterboxBox, unletterboxBox, type LetterboxParams } from './letterbox';
export {
  nms,
  nmsIndices,
  decodePredictions,
  rectAt,
  type NmsOptions,
  type DecodeOptions,
  type BoxFormat,
} from './nms';
export { parseXml, xmlChild, xmlChildren, xmlText, type XmlElement } from './xml';
export {
  BOX_TOLERANCE,
  BoxChecker,
  FileDetectionDataset,
  type DetectionReaderOptions,
  type ImageRecord,
} from './readers/common';
export { loadCoco, parseCoco, CocoDataset, type CocoOptions, type CocoContents } from './readers/coco';
export {
  loadVoc,
  parseVocXml,
  VOC_CLASSES,
  type VocOptions,
  type VocAnnotation,
  type VocObject,
} from './readers/voc';
export {
  loadYolo,
  parseYoloLabels,
  readYoloClasses,
  parseYamlNames,
  YOLO_IMAGE_EXTENSIONS,
  type YoloOptions,
} from './readers/yolo';
export {
  resizeSample,
  letterboxSample,
  flipSample,
  cropSample,
  jitterSample,
  detResize,
  detLetterbox,
  detRandomFlip,
  detRandomCrop,
  detColorJitter,
  detCompose,
  transformDetectionDataset,
  annotationOf,
  sampleRng,
  STREAM_DETECTION_SAMPLE,
  type CropWindow,
  type RandomCropOptions,
  type ColorJitterOptions,
  type TransformDatasetOptions,
} from './transforms';
export {
  generateScenes,
  renderScenes,
  writeScenes,
  loadEmbeddedScenes,
  GeneratedScenes,
  EMBEDDED_SCENES_DIR,
  EMBEDDED_SCENES_OPTIONS,
  SCENE_CLASSES,
  SCENE_ITEM_THRESHOLD,
  SCENE_ALPHA_RAMP,
  STREAM_SCENES,
  type SceneOptions,
  type ResolvedSceneOptions,
  type SceneItems,
  type Scene,
  type SceneBox,
} from './scenes';
export { encodePng } from './png';
export {
  evaluateVoc,
  evaluateCoco,
  vocApAllPoints,
  vocAp11Point,
  groundTruthOf,
  COCO_IOU_THRESHOLDS,
  COCO_RECALL_THRESHOLDS,
  COCO_AREA_RANGES,
  type VocEvalOptions,
  type VocEvalResult,
  type VocClassResult,
  type CocoEvalOptions,
  type CocoEvalResult,
  type CocoClassResult,
} from './eval';
export {
  compareDetections,
  type CompareDetectionsOptions,
  type DetectionAgreement,
} from './compare';
export {
  describeDetectionDataset,
  formatDetectionSummary,
  type DetectionDatasetSummary,
  type ClassSummary,
} from './describe';
