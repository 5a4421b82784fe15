import { isNetAugError } from '@netaug/core';
import { clipBox, fromCenter, giou, iou, toCenter } from './boxes';
import { letterboxBox, letterboxParams, unletterboxBox } from './letterbox';
import { decodePredictions, nms, nmsIndices } from './nms';
import type { Detection } from './types';

const r = (x: number, y: number, w: number, h: number) => ({ x, y, w, h });
const d = (x: number, y: number, w: number, h: number, score: number, label = 0): Detection => ({
  x,
  y,
  w,
  h,
  score,
  label,
});

describe('IoU and GIoU (hand-computed)', () => {
  it('partly overlapping squares: IoU 25/175 = 1/7, GIoU 1/7 − (225 − 175)/225 = −5/63', () => {
    const a = r(0, 0, 10, 10);
    const b = r(5, 5, 10, 10);
    expect(iou(a, b)).toBeCloseTo(1 / 7, 15);
    expect(giou(a, b)).toBeCloseTo(-5 / 63, 15);
    expect(iou(b, a)).toBe(iou(a, b));
  });

  it('disjoint boxes: IoU 0, GIoU −(12 − 8)/12 = −1/3', () => {
    expect(iou(r(0, 0, 2, 2), r(4, 0, 2, 2))).toBe(0);
    expect(giou(r(0, 0, 2, 2), r(4, 0, 2, 2))).toBeCloseTo(-1 / 3, 15);
  });

  it('identical, contained and touching boxes', () => {
    expect(iou(r(1, 2, 3, 4), r(1, 2, 3, 4))).toBe(1);
    expect(giou(r(1, 2, 3, 4), r(1, 2, 3, 4))).toBe(1);
    expect(iou(r(0, 0, 4, 4), r(1, 1, 2, 2))).toBe(0.25); // 4 / 16
    expect(giou(r(0, 0, 4, 4), r(1, 1, 2, 2))).toBe(0.25); // the enclosing box is the union
    expect(iou(r(0, 0, 2, 2), r(2, 0, 2, 2))).toBe(0); // sharing an edge
    expect(giou(r(0, 0, 2, 2), r(2, 0, 2, 2))).toBe(0);
    expect(iou(r(0, 0, 0, 0), r(0, 0, 0, 0))).toBe(0);
  });

  it('center form and clipping', () => {
    expect(fromCenter(5, 5, 4, 2)).toEqual(r(3, 4, 4, 2));
    expect(toCenter(r(3, 4, 4, 2))).toEqual([5, 5, 4, 2]);
    expect(clipBox({ ...r(-2, 3, 10, 10), label: 1 }, 6, 8)).toEqual({ ...r(0, 3, 6, 5), label: 1 });
  });
});

describe('class-wise NMS', () => {
  const dets = [
    d(0, 0, 10, 10, 0.9), // kept
    d(1, 0, 10, 10, 0.8), // IoU 9/11 with the first → suppressed
    d(1, 0, 10, 10, 0.7, 1), // other class → kept
    d(5, 0, 10, 10, 0.6), // IoU 50/150 = 1/3 with the first → kept at 0.5
    d(50, 50, 10, 10, 0.05), // below the score threshold
  ];

  it('suppresses same-class boxes with IoU > threshold, keeps other classes, best first', () => {
    expect(nms(dets, { iouThreshold: 0.5, scoreThreshold: 0.1 })).toEqual([dets[0], dets[2], dets[3]]);
    expect(nms(dets, { iouThreshold: 0.3, scoreThreshold: 0.1 })).toEqual([dets[0], dets[2]]);
    expect(nms(dets, { iouThreshold: 0.5, classAgnostic: true })).toEqual([dets[0], dets[3], dets[4]]);
    expect(nms(dets, { iouThreshold: 0.5, topK: 2 })).toEqual([dets[0], dets[2]]);
    expect(nms(dets, { iouThreshold: 0.5, maxPerClass: 1 })).toEqual([dets[0], dets[2]]);
  });

  it('IoU exactly at the threshold is kept; equal scores keep input order', () => {
    const a = d(0, 0, 10, 10, 0.5);
    const b = d(5, 0, 10, 10, 0.5); // IoU 1/3
    expect(nms([a, b], { iouThreshold: 1 / 3 })).toEqual([a, b]);
    expect(nms([b, a], { iouThreshold: 0.2 })).toEqual([b]);
  });

  it('nmsIndices on flat arrays (xyxy, xywh, cxcywh) gives the same indices', () => {
    const xywh = dets.flatMap((x) => [x.x, x.y, x.w, x.h]);
    const xyxy = dets.flatMap((x) => [x.x, x.y, x.x + x.w, x.y + x.h]);
    const cxcywh = dets.flatMap((x) => [x.x + x.w / 2, x.y + x.h / 2, x.w, x.h]);
    const scores = dets.map((x) => x.score);
    const labels = dets.map((x) => x.label);
    const o = { iouThreshold: 0.5, scoreThreshold: 0.1, labels };
    expect(nmsIndices(xyxy, scores, o)).toEqual([0, 2, 3]);
    expect(nmsIndices(xywh, Float32Array.from(scores), { ...o, format: 'xywh' })).toEqual([0, 2, 3]);
    expect(nmsIndices(cxcywh, scores, { ...o, format: 'cxcywh' })).toEqual([0, 2, 3]);
    expect(nmsIndices(xyxy, scores, { iouThreshold: 0.5, scoreThreshold: 0.1 })).toEqual([0, 3]); // no labels: one class
  });

  it('decodePredictions: best class per box, scale, letterbox undo, clip, NMS', () => {
    // two anchors on a 32×32 letterboxed input of a 20×40 (h×w) image: scale 0.8, top 8, left 0
    const p = letterboxParams(20, 40, 32, 32);
    // normalised cxcywh: box 1 = (8, 12, 16, 8) px on the canvas → (10, 5, 20, 10) in the image
    const boxes = [0.5, 0.5, 0.5, 0.25, 0.5, 0.5, 0.5, 0.25];
    const scores = [0.1, 0.8, 0.05, 0.2, 0.3, 0.4]; // 2 anchors × 3 classes
    const out = decodePredictions(boxes, scores, 3, {
      format: 'cxcywh',
      scale: { width: 32, height: 32 },
      letterbox: p,
      clipTo: { width: 40, height: 20 },
      iouThreshold: 0.5,
    });
    // anchor 0 → class 1 (0.8); anchor 1 → class 2 (0.4), another class: not suppressed
    expect(out).toEqual([
      { x: 10, y: 5, w: 20, h: 10, label: 1, score: 0.8 },
      { x: 10, y: 5, w: 20, h: 10, label: 2, score: 0.4 },
    ]);
    const multi = decodePredictions(boxes, scores, 3, {
      format: 'cxcywh',
      multiLabel: true,
      scoreThreshold: 0.25,
    });
    expect(multi.map((x) => [x.label, x.score])).toEqual([
      [1, 0.8],
      [2, 0.4],
    ]); // class 1 of anchor 1 (0.3) is suppressed by anchor 0's class 1 (same box)
  });

  it('refuses bad arguments with INVALID_ARGUMENT', () => {
    expect(() => nms(dets, { iouThreshold: 2 })).toThrow(/iouThreshold must be in \[0, 1\], got 2 — /);
    try {
      decodePredictions([0, 0, 1], [1], 1);
      throw new Error('no error');
    } catch (e) {
      expect(isNetAugError(e) && e.code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('letterbox parameters', () => {
  it('fits 20×40 into 32×32: scale 0.8, 16×32 content at top 8; boxes map there and back', () => {
    const p = letterboxParams(20, 40, 32, 32);
    expect(p).toMatchObject({ newHeight: 16, newWidth: 32, top: 8, left: 0, scaleX: 0.8, scaleY: 0.8 });
    const b = { x: 10, y: 5, w: 20, h: 10, label: 3 };
    const m = letterboxBox(b, p);
    expect(m).toEqual({ x: 8, y: 12, w: 16, h: 8, label: 3 });
    expect(unletterboxBox(m, p)).toEqual(b);
  });

  it('rounds the content size and uses the exact factors', () => {
    const p = letterboxParams(3, 7, 10, 10); // scale 10/7: 4.29 → 4 rows, 10 columns
    expect(p).toMatchObject({ newHeight: 4, newWidth: 10, top: 3, left: 0 });
    expect(p.scaleY).toBeCloseTo(4 / 3, 15);
    expect(p.scaleX).toBeCloseTo(10 / 7, 15);
  });
});
