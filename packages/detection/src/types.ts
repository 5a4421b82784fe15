import type { Rng } from '@netaug/core';

/**
 * An axis-aligned rectangle in pixel coordinates of its image: `(x, y)` is the top-left corner, `w`/`h` the size.
 * Coordinates are continuous: pixel column `i` covers `[i, i + 1)`, so a box that covers columns 3…7 has
 * `x = 3, w = 5`, and the whole image is `{ x: 0, y: 0, w: width, h: height }` (the COCO convention).
 */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A ground-truth object: a {@link Rect}, its class and the flags the evaluations honour. */
export interface Box extends Rect {
  /** Class index into the dataset's `classNames`. */
  label: number;
  /** COCO `iscrowd`: a region of many objects. COCO evaluation matches detections to it without counting them. */
  crowd?: boolean;
  /** Pascal VOC `difficult`: VOC evaluation neither rewards nor penalises detections of it. */
  difficult?: boolean;
  /**
   * Object area in px² for COCO's small / medium / large ranges (COCO's annotation `area`, which is the
   * segmentation area, not `w · h`). Absent means `w · h`.
   */
  area?: number;
}

/** A predicted object: a {@link Rect}, its class index and its confidence. */
export interface Detection extends Rect {
  label: number;
  score: number;
}

/**
 * One image with its boxes. `image` is HWC float32 scaled to [0, 1], as `@netaug/data` returns images
 * (`image.length === height * width * channels`).
 */
export interface DetectionSample {
  image: Float32Array;
  height: number;
  width: number;
  channels: number;
  boxes: Box[];
  /** The image file, for file-backed datasets. */
  file?: string;
  /** The image id of the annotation file (COCO `id`, VOC/YOLO file stem), when there is one. */
  id?: number | string;
}

/** The annotation of one image without its pixels (no decoding): size and boxes. */
export interface DetectionAnnotation {
  height: number;
  width: number;
  boxes: Box[];
  file?: string;
  id?: number | string;
}

/** Where a detection dataset came from. */
export type DetectionFormat = 'coco' | 'voc' | 'yolo' | 'scenes' | 'memory' | 'transformed';

/**
 * Random access to the images of one split, in the style of `@netaug/data`'s `Dataset`: `size` images,
 * `get(i)` (sync, or async when images are decoded from files) returns a fresh {@link DetectionSample} that the
 * caller may modify, and `classNames[label]` names a box's class. Every dataset of this package also has
 * `annotation(i)`, the boxes and image size without decoding pixels (used by evaluation and
 * {@link describeDetectionDataset}).
 */
export interface DetectionDataset {
  readonly size: number;
  readonly classNames: string[];
  get(index: number): DetectionSample | Promise<DetectionSample>;
  /** Boxes and image size of image `index` without decoding it (a fresh copy). */
  annotation?(index: number): DetectionAnnotation;
  readonly format?: DetectionFormat;
  /** A path, or `embedded`, or `memory`. */
  readonly source?: string;
}

/**
 * One step of box-aware preprocessing / augmentation. `apply` must not modify its input and must draw all its
 * randomness from `rng` (see {@link transformDetectionDataset}, which derives it from `(seed, epoch, index)`).
 */
export interface DetectionTransform {
  readonly name: string;
  apply(sample: DetectionSample, rng: Rng): DetectionSample;
}
