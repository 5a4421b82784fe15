export type { Transform, TransformSpec } from './transform';
export { cropPad, roundHalfEven } from './transform';
export { resize, resizeBilinear } from './resize';
export { centerCrop, randomCrop, type RandomCropOptions } from './crop';
export {
  randomResizedCrop,
  sampleResizedCropWindow,
  type RandomResizedCropOptions,
} from './random-resized-crop';
export { randomHorizontalFlip, flipHorizontal } from './flip';
export { normalize } from './normalize';
export { grayscale, toRGB } from './color';
export { toFloat } from './to-float';
export { compose } from './compose';
export { transformFromSpec } from './registry';
