import type { Rect } from './types';

/** Area `w · h` of a rectangle (0 for a negative size). */
export function boxArea(b: Rect): number {
  return Math.max(0, b.w) * Math.max(0, b.h);
}

/** Area of the intersection of two rectangles (0 when they do not overlap). */
export function intersectionArea(a: Rect, b: Rect): number {
  const iw = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const ih = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return iw > 0 && ih > 0 ? iw * ih : 0;
}

/**
 * Intersection over union, `|A ∩ B| / |A ∪ B|`, in continuous coordinates (no "+1": see the README for why
 * this equals the VOC devkit's inclusive-pixel formula on VOC boxes). 0 when the union is empty.
 */
export function iou(a: Rect, b: Rect): number {
  const inter = intersectionArea(a, b);
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Generalized IoU (Rezatofighi et al., CVPR 2019): `IoU − |C \ (A ∪ B)| / |C|`, `C` the smallest rectangle
 * enclosing both. In [−1, 1]; 1 for identical boxes, tending to −1 for tiny boxes far apart. 0 when `C` is empty.
 */
export function giou(a: Rect, b: Rect): number {
  const inter = intersectionArea(a, b);
  const union = boxArea(a) + boxArea(b) - inter;
  const cw = Math.max(a.x + a.w, b.x + b.w) - Math.min(a.x, b.x);
  const ch = Math.max(a.y + a.h, b.y + b.h) - Math.min(a.y, b.y);
  const c = cw * ch;
  if (!(c > 0)) return 0;
  const i = union > 0 ? inter / union : 0;
  return i - (c - union) / c;
}

/** `[x1, y1, x2, y2]` (corners) of a rectangle. */
export function toCorners(b: Rect): [number, number, number, number] {
  return [b.x, b.y, b.x + b.w, b.y + b.h];
}

/** The rectangle with corners `(x1, y1)`, `(x2, y2)`. */
export function fromCorners(x1: number, y1: number, x2: number, y2: number): Rect {
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/** The rectangle of center `(cx, cy)` and size `w × h` (the YOLO parametrisation). */
export function fromCenter(cx: number, cy: number, w: number, h: number): Rect {
  return { x: cx - w / 2, y: cy - h / 2, w, h };
}

/** `[cx, cy, w, h]` of a rectangle. */
export function toCenter(b: Rect): [number, number, number, number] {
  return [b.x + b.w / 2, b.y + b.h / 2, b.w, b.h];
}

/** `b` clipped to the image `[0, width] × [0, height]` (other fields kept); `w`/`h` may become 0. */
export function clipBox<T extends Rect>(b: T, width: number, height: number): T {
  const x1 = Math.min(Math.max(b.x, 0), width);
  const y1 = Math.min(Math.max(b.y, 0), height);
  const x2 = Math.min(Math.max(b.x + b.w, 0), width);
  const y2 = Math.min(Math.max(b.y + b.h, 0), height);
  return { ...b, x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}
