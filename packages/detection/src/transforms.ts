import { NetAugError, type Rng } from '@netaug/core';
import { cropPad, deriveRng, resizeBilinear, type Image } from '@netaug/data';
import { letterboxBox, letterboxParams, type LetterboxParams } from './letterbox';
import type {
  Box,
  DetectionAnnotation,
  DetectionDataset,
  DetectionSample,
  DetectionTransform,
} from './types';

/** The stream tag of per-sample randomness: the same as `@netaug/data`'s loader uses for sample transforms. */
export const STREAM_DETECTION_SAMPLE = 2;

function toImage(s: DetectionSample): Image {
  return { data: s.image, height: s.height, width: s.width, channels: s.channels };
}

function withImage(s: DetectionSample, img: Image, boxes: Box[]): DetectionSample {
  return { ...s, image: img.data, height: img.height, width: img.width, channels: img.channels, boxes };
}

/** `b` scaled by `(sx, sy)` then shifted by `(dx, dy)`; `area` (if any) scales by `sx · sy`. */
function mapBox(b: Box, sx: number, sy: number, dx: number, dy: number): Box {
  const out: Box = { ...b, x: b.x * sx + dx, y: b.y * sy + dy, w: b.w * sx, h: b.h * sy };
  if (b.area !== undefined) out.area = b.area * sx * sy;
  return out;
}

function size2(size: number | readonly [number, number], what: string): [number, number] {
  const s: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!s.every((v) => Number.isInteger(v) && v > 0))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${what}: size must be a positive integer or [h, w], got ${JSON.stringify(size)}`,
      {
        hint: 'pass the output size in pixels',
      },
    );
  return s;
}

/**
 * Resizes the image to `height × width` (bilinear, half-pixel centers, as `@netaug/data`'s `resize`; no
 * antialiasing) and scales every box by `width / W`, `height / H`.
 */
export function resizeSample(s: DetectionSample, height: number, width: number): DetectionSample {
  const sx = width / s.width;
  const sy = height / s.height;
  const img =
    s.height === height && s.width === width ? toImage(s) : resizeBilinear(toImage(s), height, width);
  return withImage(
    s,
    img,
    s.boxes.map((b) => mapBox(b, sx, sy, 0, 0)),
  );
}

/**
 * Letterboxes to `height × width`: resizes keeping the aspect ratio (see {@link letterboxParams}) and centers the
 * result on a canvas of value `fill` (default 0.5, the grey YOLO pads with, 114/255 ≈ 0.447 in Ultralytics).
 * Returns the sample and the parameters, which {@link unletterboxBox} uses to map predictions back.
 */
export function letterboxSample(
  s: DetectionSample,
  height: number,
  width: number,
  fill = 0.5,
): { sample: DetectionSample; params: LetterboxParams } {
  const p = letterboxParams(s.height, s.width, height, width);
  const inner =
    p.newHeight === s.height && p.newWidth === s.width
      ? toImage(s)
      : resizeBilinear(toImage(s), p.newHeight, p.newWidth);
  const img = cropPad(inner, -p.top, -p.left, height, width, fill);
  return {
    sample: withImage(
      s,
      img,
      s.boxes.map((b) => letterboxBox(b, p)),
    ),
    params: p,
  };
}

/** Mirrors the image left–right; a box `x` becomes `W − x − w`. Applying it twice gives the input back. */
export function flipSample(s: DetectionSample): DetectionSample {
  const { height: h, width: w, channels: c } = s;
  const out = new Float32Array(s.image.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const src = row + x * c;
      const dst = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[dst + k] = s.image[src + k];
    }
  }
  return {
    ...s,
    image: out,
    boxes: s.boxes.map((b) => ({ ...b, x: w - b.x - b.w })),
  };
}

/** A crop window in whole pixels: rows `[top, top + height)`, columns `[left, left + width)`. */
export interface CropWindow {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Crops to `window` (parts outside the image are 0). Every box is clipped to the window and moved into its
 * coordinates; a box is dropped when the clipped area is less than `minVisible` (default 0.25) of its area, or
 * zero. `area` (if any) is scaled by the kept fraction; `crowd`/`difficult` are kept.
 */
export function cropSample(s: DetectionSample, window: CropWindow, minVisible = 0.25): DetectionSample {
  const { top, left, height, width } = window;
  if (![top, left, height, width].every(Number.isInteger) || height <= 0 || width <= 0)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `cropSample: window must be whole pixels with a positive size, got ${JSON.stringify(window)}`,
      {
        hint: 'pass integers { top, left, height, width }',
      },
    );
  const boxes: Box[] = [];
  for (const b of s.boxes) {
    const x1 = Math.max(b.x, left);
    const y1 = Math.max(b.y, top);
    const x2 = Math.min(b.x + b.w, left + width);
    const y2 = Math.min(b.y + b.h, top + height);
    if (!(x2 > x1 && y2 > y1)) continue;
    const frac = ((x2 - x1) * (y2 - y1)) / (b.w * b.h);
    if (frac < minVisible) continue;
    const out: Box = { ...b, x: x1 - left, y: y1 - top, w: x2 - x1, h: y2 - y1 };
    if (b.area !== undefined) out.area = b.area * frac;
    boxes.push(out);
  }
  return withImage(s, cropPad(toImage(s), top, left, height, width), boxes);
}

/**
 * Brightness then contrast, as torchvision's `adjust_brightness` / `adjust_contrast` on [0, 1] images:
 * `v · b`, then `c · v + (1 − c) · mean` with `mean` the image's mean luma (0.299 R + 0.587 G + 0.114 B, or the
 * value for one channel), clamped to [0, 1]. Boxes are unchanged.
 */
export function jitterSample(s: DetectionSample, brightness: number, contrast: number): DetectionSample {
  const n = s.height * s.width;
  const c = s.channels;
  const out = new Float32Array(s.image.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, s.image[i] * brightness));
  let sum = 0;
  for (let p = 0; p < n; p++) {
    sum += c === 3 ? 0.299 * out[3 * p] + 0.587 * out[3 * p + 1] + 0.114 * out[3 * p + 2] : out[p * c];
  }
  const mean = n ? sum / n : 0;
  for (let i = 0; i < out.length; i++)
    out[i] = Math.min(1, Math.max(0, contrast * out[i] + (1 - contrast) * mean));
  return { ...s, image: out, boxes: s.boxes.map((b) => ({ ...b })) };
}

/** A transform that resizes to `size` (`n` or `[h, w]`) and scales the boxes ({@link resizeSample}). */
export function detResize(size: number | [number, number]): DetectionTransform {
  const [h, w] = size2(size, 'detResize');
  return { name: 'detResize', apply: (s) => resizeSample(s, h, w) };
}

/** A transform that letterboxes to `size` ({@link letterboxSample}); `fill` is the padding value (default 0.5). */
export function detLetterbox(
  size: number | [number, number],
  options: { fill?: number } = {},
): DetectionTransform {
  const [h, w] = size2(size, 'detLetterbox');
  return { name: 'detLetterbox', apply: (s) => letterboxSample(s, h, w, options.fill ?? 0.5).sample };
}

/** Mirrors image and boxes left–right with probability `p` (default 0.5); draws exactly one number. */
export function detRandomFlip(p = 0.5): DetectionTransform {
  if (!(p >= 0 && p <= 1))
    throw new NetAugError('INVALID_ARGUMENT', `detRandomFlip: p must be in [0, 1], got ${p}`, {
      hint: 'p is a probability',
    });
  return { name: 'detRandomFlip', apply: (s, rng) => (rng.next() < p ? flipSample(s) : s) };
}

/** Options of {@link detRandomCrop}. */
export interface RandomCropOptions {
  /** Range of the crop's height and width as fractions of the image's (drawn independently; default [0.3, 1]). */
  scale?: [number, number];
  /** Drop a box when less than this fraction of its area is inside the crop (default 0.25). */
  minVisible?: number;
}

/**
 * A random crop: height `round(H · u₁)`, width `round(W · u₂)` (at least 1) with `u₁, u₂` uniform in `scale`,
 * top-left uniform over the positions inside the image; boxes by {@link cropSample}. Draws exactly 4 numbers.
 * The output size varies: follow it with {@link detResize} or {@link detLetterbox} to batch.
 */
export function detRandomCrop(options: RandomCropOptions = {}): DetectionTransform {
  const [lo, hi] = options.scale ?? [0.3, 1];
  const minVisible = options.minVisible ?? 0.25;
  if (!(lo > 0 && lo <= hi && hi <= 1))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `detRandomCrop: scale must satisfy 0 < lo ≤ hi ≤ 1, got [${lo}, ${hi}]`,
      {
        hint: 'scale is the range of the crop side as a fraction of the image side',
      },
    );
  if (!(minVisible >= 0 && minVisible <= 1))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `detRandomCrop: minVisible must be in [0, 1], got ${minVisible}`,
      {
        hint: 'minVisible is a fraction of a box area',
      },
    );
  return {
    name: 'detRandomCrop',
    apply: (s, rng) => {
      const h = Math.min(s.height, Math.max(1, Math.round(s.height * rng.uniform(lo, hi))));
      const w = Math.min(s.width, Math.max(1, Math.round(s.width * rng.uniform(lo, hi))));
      const top = rng.int(s.height - h + 1);
      const left = rng.int(s.width - w + 1);
      return cropSample(s, { top, left, height: h, width: w }, minVisible);
    },
  };
}

/** Options of {@link detColorJitter}. */
export interface ColorJitterOptions {
  /** Brightness factor uniform in `[max(0, 1 − brightness), 1 + brightness]` (default 0.2). */
  brightness?: number;
  /** Contrast factor uniform in `[max(0, 1 − contrast), 1 + contrast]` (default 0.2). */
  contrast?: number;
}

/** Random brightness then contrast ({@link jitterSample}); draws exactly 2 numbers. Boxes are unchanged. */
export function detColorJitter(options: ColorJitterOptions = {}): DetectionTransform {
  const B = options.brightness ?? 0.2;
  const C = options.contrast ?? 0.2;
  if (!(B >= 0) || !(C >= 0))
    throw new NetAugError('INVALID_ARGUMENT', `detColorJitter: brightness and contrast must be ≥ 0`, {
      hint: 'they are the maximum relative change, e.g. 0.2',
    });
  return {
    name: 'detColorJitter',
    apply: (s, rng) => {
      const b = rng.uniform(Math.max(0, 1 - B), 1 + B);
      const c = rng.uniform(Math.max(0, 1 - C), 1 + C);
      return jitterSample(s, b, c);
    },
  };
}

/** Applies transforms in order, all drawing from the same rng. */
export function detCompose(transforms: DetectionTransform[]): DetectionTransform {
  return {
    name: 'detCompose',
    apply: (s, rng) => transforms.reduce((acc, t) => t.apply(acc, rng), s),
  };
}

/** Options of {@link transformDetectionDataset}. */
export interface TransformDatasetOptions {
  seed?: number;
  epoch?: number;
}

/**
 * A view of `ds` whose `get(i)` applies `transform` with the generator `deriveRng(seed, 2, epoch, i)` — the one
 * `@netaug/data`'s loader derives for sample `i` of `epoch` — so a sample's augmentation depends only on
 * `(seed, epoch, i)`. `annotation` is not available on the view (boxes depend on the random draw).
 */
export function transformDetectionDataset(
  ds: DetectionDataset,
  transform: DetectionTransform,
  options: TransformDatasetOptions = {},
): DetectionDataset {
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const apply = (s: DetectionSample, i: number) =>
    transform.apply(s, deriveRng(seed, STREAM_DETECTION_SAMPLE, epoch, i));
  return {
    size: ds.size,
    classNames: ds.classNames,
    format: 'transformed',
    source: ds.source,
    get(i: number) {
      const s = ds.get(i);
      return s instanceof Promise ? s.then((x) => apply(x, i)) : apply(s, i);
    },
  };
}

/** The annotation of image `i` of any dataset: `annotation(i)` when it has one, else decoded with `get(i)`. */
export async function annotationOf(ds: DetectionDataset, i: number): Promise<DetectionAnnotation> {
  if (ds.annotation) return ds.annotation(i);
  const s = await ds.get(i);
  return { height: s.height, width: s.width, boxes: s.boxes, file: s.file, id: s.id };
}

/** Seeded helper for tests and scripts: the generator {@link transformDetectionDataset} uses for sample `i`. */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return deriveRng(seed, STREAM_DETECTION_SAMPLE, epoch, index);
}
