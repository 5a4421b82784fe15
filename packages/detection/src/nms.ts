import { NetAugError } from '@netaug/core';
import { clipBox, iou } from './boxes';
import { unletterboxBox, type LetterboxParams } from './letterbox';
import type { Detection, Rect } from './types';

/** Options of {@link nms} and {@link nmsIndices}. */
export interface NmsOptions {
  /** A candidate is suppressed by a kept box of its class whose IoU with it is **greater** than this (default 0.5). */
  iouThreshold?: number;
  /** Candidates need `score >= scoreThreshold` (default 0). */
  scoreThreshold?: number;
  /** At most this many detections are kept in all, the highest-scoring ones (default 100). */
  topK?: number;
  /** At most this many per class (default unlimited). */
  maxPerClass?: number;
  /** Suppress across classes too (default false: class-wise NMS, boxes of different classes never suppress). */
  classAgnostic?: boolean;
}

function check(o: NmsOptions): Required<NmsOptions> {
  const r = {
    iouThreshold: o.iouThreshold ?? 0.5,
    scoreThreshold: o.scoreThreshold ?? 0,
    topK: o.topK ?? 100,
    maxPerClass: o.maxPerClass ?? Infinity,
    classAgnostic: o.classAgnostic ?? false,
  };
  if (!(r.iouThreshold >= 0 && r.iouThreshold <= 1))
    throw new NetAugError('INVALID_ARGUMENT', `nms: iouThreshold must be in [0, 1], got ${r.iouThreshold}`, {
      hint: 'typical values are 0.45–0.65',
    });
  if (!(r.topK >= 0) || !(r.maxPerClass >= 0))
    throw new NetAugError('INVALID_ARGUMENT', `nms: topK and maxPerClass must be ≥ 0`, {
      hint: 'pass a count of detections, or leave them out',
    });
  return r;
}

/**
 * The greedy NMS core: `order` holds candidate indices sorted best first; returns the kept ones in that order.
 */
function greedy(
  order: number[],
  rect: (i: number) => Rect,
  group: (i: number) => number,
  o: Required<NmsOptions>,
): number[] {
  const kept: number[] = [];
  const byGroup = new Map<number, number[]>();
  for (const i of order) {
    if (kept.length >= o.topK) break;
    const g = group(i);
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    if (list.length >= o.maxPerClass) continue;
    const r = rect(i);
    let suppressed = false;
    for (const k of list) {
      if (iou(r, rect(k)) > o.iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    list.push(i);
    kept.push(i);
  }
  return kept;
}

/** Indices sorted by descending score; equal scores keep their input order (lower index first). */
function byScore(indices: number[], score: (i: number) => number): number[] {
  return indices.sort((a, b) => score(b) - score(a) || a - b);
}

/**
 * Class-wise greedy non-maximum suppression: candidates with `score >= scoreThreshold`, taken by descending score
 * (ties: input order), are kept unless a kept box **of the same class** overlaps them with IoU > `iouThreshold`;
 * stops after `topK` kept. Returns the kept detections (the same objects) best first. Plain JS, so the same code
 * post-processes exported models.
 */
export function nms<T extends Detection>(detections: readonly T[], options: NmsOptions = {}): T[] {
  const o = check(options);
  const idx: number[] = [];
  detections.forEach((d, i) => {
    if (Number.isFinite(d.score) && d.score >= o.scoreThreshold) idx.push(i);
  });
  const order = byScore(idx, (i) => detections[i].score);
  const kept = greedy(
    order,
    (i) => detections[i],
    (i) => (o.classAgnostic ? 0 : detections[i].label),
    o,
  );
  return kept.map((i) => detections[i]);
}

/** How 4 numbers describe a box: corners, top-left + size, or center + size. */
export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';

/** Box `i` of a flat `N × 4` array in `format`. */
export function rectAt(boxes: ArrayLike<number>, i: number, format: BoxFormat): Rect {
  const a = boxes[4 * i];
  const b = boxes[4 * i + 1];
  const c = boxes[4 * i + 2];
  const d = boxes[4 * i + 3];
  if (format === 'xyxy') return { x: a, y: b, w: c - a, h: d - b };
  if (format === 'xywh') return { x: a, y: b, w: c, h: d };
  return { x: a - c / 2, y: b - d / 2, w: c, h: d };
}

/**
 * NMS over flat arrays (model outputs): `boxes` is `N × 4` in `format` (default `xyxy`), `scores` has `N` values,
 * `labels` (optional, `N` class indices) makes it class-wise. Returns the kept indices, best first.
 */
export function nmsIndices(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: NmsOptions & { labels?: ArrayLike<number>; format?: BoxFormat } = {},
): number[] {
  const o = check(options);
  const n = scores.length;
  if (boxes.length !== 4 * n)
    throw new NetAugError('INVALID_ARGUMENT', `nmsIndices: ${boxes.length} box values for ${n} scores`, {
      hint: 'boxes must hold 4 numbers per score',
    });
  const format = options.format ?? 'xyxy';
  const labels = options.labels;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(scores[i]) && scores[i] >= o.scoreThreshold) idx.push(i);
  const rects = new Map<number, Rect>();
  const rect = (i: number) => {
    let r = rects.get(i);
    if (!r) rects.set(i, (r = rectAt(boxes, i, format)));
    return r;
  };
  return greedy(
    byScore(idx, (i) => scores[i]),
    rect,
    (i) => (o.classAgnostic || !labels ? 0 : labels[i]),
    o,
  );
}

/** Options of {@link decodePredictions}. */
export interface DecodeOptions extends NmsOptions {
  /** How the 4 box numbers are laid out (default `xyxy`). */
  format?: BoxFormat;
  /** Multiply x/w by `width` and y/h by `height` first (for coordinates normalised to [0, 1]). */
  scale?: { width: number; height: number };
  /** Coordinates are on a letterboxed input: map them back to the source image (after `scale`). */
  letterbox?: LetterboxParams;
  /** Clip the boxes to this image (after `letterbox`), dropping those left with zero area. */
  clipTo?: { width: number; height: number };
  /**
   * Every (box, class) with a score ≥ `scoreThreshold` is a candidate (default false: only the best class of
   * each box, as most single-stage detectors at inference).
   */
  multiLabel?: boolean;
}

/**
 * Turns raw outputs into detections: `boxes` is `N × 4`, `scores` is `N × numClasses` (row-major, probabilities
 * or any monotone score). Picks the candidates (best class per box, or every class with `multiLabel`), maps
 * them to image pixels (`scale`, `letterbox`, `clipTo`) and runs class-wise {@link nms}.
 */
export function decodePredictions(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  numClasses: number,
  options: DecodeOptions = {},
): Detection[] {
  if (!Number.isInteger(numClasses) || numClasses <= 0)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `decodePredictions: numClasses must be ≥ 1, got ${numClasses}`,
      {
        hint: 'pass the number of classes of the model',
      },
    );
  const n = scores.length / numClasses;
  if (!Number.isInteger(n) || boxes.length !== 4 * n)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `decodePredictions: ${boxes.length} box values and ${scores.length} scores do not make N × 4 and N × ${numClasses}`,
      { hint: 'boxes must be N × 4 and scores N × numClasses, row-major' },
    );
  const format = options.format ?? 'xyxy';
  const thr = options.scoreThreshold ?? 0;
  const out: Detection[] = [];
  for (let i = 0; i < n; i++) {
    let r = rectAt(boxes, i, format);
    if (options.scale) {
      const { width, height } = options.scale;
      r = { x: r.x * width, y: r.y * height, w: r.w * width, h: r.h * height };
    }
    if (options.letterbox) r = unletterboxBox(r, options.letterbox);
    if (options.clipTo) {
      r = clipBox(r, options.clipTo.width, options.clipTo.height);
      if (!(r.w > 0 && r.h > 0)) continue;
    }
    const row = i * numClasses;
    if (options.multiLabel) {
      for (let c = 0; c < numClasses; c++) {
        const s = scores[row + c];
        if (s >= thr) out.push({ ...r, label: c, score: s });
      }
    } else {
      let best = 0;
      for (let c = 1; c < numClasses; c++) if (scores[row + c] > scores[row + best]) best = c;
      if (scores[row + best] >= thr) out.push({ ...r, label: best, score: scores[row + best] });
    }
  }
  return nms(out, options);
}
