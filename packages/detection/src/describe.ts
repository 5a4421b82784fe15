import { annotationOf } from './transforms';
import type { DetectionDataset } from './types';

/** Box counts of one class. */
export interface ClassSummary {
  name: string;
  boxes: number;
  /** Images with at least one box of the class. */
  images: number;
  crowd: number;
  difficult: number;
}

/** What {@link describeDetectionDataset} reports. */
export interface DetectionDatasetSummary {
  format?: string;
  source?: string;
  images: number;
  boxes: number;
  /** Images without any box. */
  emptyImages: number;
  boxesPerImage: { min: number; max: number; mean: number };
  perClass: ClassSummary[];
  /**
   * Boxes by area `w · h` in px²: small `< 32²`, medium `32²…< 96²`, large `≥ 96²` (COCO's thresholds, as half-open
   * bins; COCO evaluation itself uses the annotation `area` when there is one).
   */
  sizes: { small: number; medium: number; large: number };
  /** Smallest and largest image width and height (0 for an empty dataset). */
  imageSize: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number };
}

/**
 * Counts of a detection dataset for `netaug data inspect`: images, boxes per class, empty images, boxes per image,
 * a small/medium/large histogram and the range of image sizes. Uses `annotation(i)` (no decoding) when the dataset
 * has it, as every dataset of this package does.
 */
export async function describeDetectionDataset(ds: DetectionDataset): Promise<DetectionDatasetSummary> {
  const perClass: ClassSummary[] = ds.classNames.map((name) => ({
    name,
    boxes: 0,
    images: 0,
    crowd: 0,
    difficult: 0,
  }));
  const sizes = { small: 0, medium: 0, large: 0 };
  let boxes = 0;
  let emptyImages = 0;
  let minB = Infinity;
  let maxB = 0;
  const imageSize = { minWidth: Infinity, maxWidth: 0, minHeight: Infinity, maxHeight: 0 };
  for (let i = 0; i < ds.size; i++) {
    const a = await annotationOf(ds, i);
    const n = a.boxes.length;
    boxes += n;
    if (!n) emptyImages++;
    minB = Math.min(minB, n);
    maxB = Math.max(maxB, n);
    imageSize.minWidth = Math.min(imageSize.minWidth, a.width);
    imageSize.maxWidth = Math.max(imageSize.maxWidth, a.width);
    imageSize.minHeight = Math.min(imageSize.minHeight, a.height);
    imageSize.maxHeight = Math.max(imageSize.maxHeight, a.height);
    const seen = new Set<number>();
    for (const b of a.boxes) {
      const c =
        perClass[b.label] ??
        (perClass[b.label] = { name: String(b.label), boxes: 0, images: 0, crowd: 0, difficult: 0 });
      c.boxes++;
      if (b.crowd) c.crowd++;
      if (b.difficult) c.difficult++;
      if (!seen.has(b.label)) {
        seen.add(b.label);
        c.images++;
      }
      const area = b.w * b.h;
      if (area < 32 ** 2) sizes.small++;
      else if (area < 96 ** 2) sizes.medium++;
      else sizes.large++;
    }
  }
  if (!ds.size) {
    minB = 0;
    imageSize.minWidth = imageSize.minHeight = 0;
  }
  return {
    format: ds.format,
    source: ds.source,
    images: ds.size,
    boxes,
    emptyImages,
    boxesPerImage: { min: minB, max: maxB, mean: ds.size ? boxes / ds.size : 0 },
    perClass,
    sizes,
    imageSize,
  };
}

/** The summary as text lines (what `netaug data inspect` prints for a detection dataset). */
export function formatDetectionSummary(s: DetectionDatasetSummary): string {
  const pct = (n: number) => (s.boxes ? ((100 * n) / s.boxes).toFixed(1) : '0.0');
  const size =
    s.imageSize.minWidth === s.imageSize.maxWidth && s.imageSize.minHeight === s.imageSize.maxHeight
      ? `${s.imageSize.maxWidth}×${s.imageSize.maxHeight}`
      : `${s.imageSize.minWidth}–${s.imageSize.maxWidth} × ${s.imageSize.minHeight}–${s.imageSize.maxHeight}`;
  const width = Math.max(5, ...s.perClass.map((c) => c.name.length));
  const lines = [
    `${s.format ?? 'detection'} ${s.source ?? ''}`.trim(),
    `images ${s.images} (${s.emptyImages} without boxes), size ${size}`,
    `boxes ${s.boxes}, per image min ${s.boxesPerImage.min} / mean ${s.boxesPerImage.mean.toFixed(2)} / max ${s.boxesPerImage.max}`,
    `sizes small ${s.sizes.small} (${pct(s.sizes.small)}%), medium ${s.sizes.medium} (${pct(s.sizes.medium)}%), large ${s.sizes.large} (${pct(s.sizes.large)}%)`,
    `${'class'.padEnd(width)}  boxes  images`,
    ...s.perClass.map(
      (c) =>
        `${c.name.padEnd(width)}  ${String(c.boxes).padStart(5)}  ${String(c.images).padStart(6)}` +
        (c.crowd ? `  crowd ${c.crowd}` : '') +
        (c.difficult ? `  difficult ${c.difficult}` : ''),
    ),
  ];
  return lines.join('\n');
}
