import { errorText } from './test-support';
import {
  COCO_IOU_THRESHOLDS,
  COCO_RECALL_THRESHOLDS,
  evaluateCoco,
  evaluateVoc,
  vocAp11Point,
  vocApAllPoints,
} from './eval';
import type { Box, Detection } from './types';

const box = (x: number, y: number, w: number, h: number, label = 0, extra: Partial<Box> = {}): Box => ({
  x,
  y,
  w,
  h,
  label,
  ...extra,
});
const det = (x: number, y: number, w: number, h: number, score: number, label = 0): Detection => ({
  x,
  y,
  w,
  h,
  label,
  score,
});

/*
 * The hand-worked case: 3 ground-truth boxes of one class, one per image (all 10×10 at the origin), and 5 detections:
 *
 *   rank  score  image  box                     IoU with the GT of its image
 *   1     0.9    0      (0, 0, 10, 10)          1            (exact)
 *   2     0.8    0      (100, 100, 10, 10)      0            (far away)
 *   3     0.7    1      (1, 0, 10, 10)          90/110 = 9/11 ≈ 0.818
 *   4     0.6    2      (150, 150, 10, 10)      0
 *   5     0.5    2      (2, 0, 10, 10)          80/120 = 2/3 ≈ 0.667
 *
 * At IoU ≥ 0.5 the ranks are TP FP TP FP TP:
 *   precision 1/1, 1/2, 2/3, 2/4, 3/5   recall 1/3, 1/3, 2/3, 2/3, 3/3
 *   precision envelope (max to the right): 1, 2/3, 2/3, 3/5, 3/5
 * VOC all-point AP = Σ Δrecall · envelope = 1/3 · 1 + 1/3 · 2/3 + 1/3 · 3/5 = 15/45 + 10/45 + 9/45 = 34/45.
 * VOC 11-point: t = 0, .1, .2, .3 → 1; t = .4, .5, .6 → 2/3; t = .7 … 1 → 3/5: (4 + 3 · 2/3 + 4 · 3/5) / 11 = 42/55.
 * COCO 101-point at one threshold: recall thresholds r = 0, .01, …, 1; precision at r = envelope at the first rank
 * with recall ≥ r: r ≤ .33 (34 points) → 1; .34 ≤ r ≤ .66 (33 points) → 2/3; r ≥ .67 (34 points) → 3/5:
 *   (34 + 33 · 2/3 + 34 · 3/5) / 101 = (34 + 22 + 20.4) / 101 = 76.4 / 101 = 382/505.
 * COCO thresholds 0.50:0.05:0.95:
 *   t = .50 .55 .60 .65: all three TPs (2/3 ≥ .65)                     → 382/505
 *   t = .70 .75 .80: rank 5 becomes FP: TP FP TP FP FP; recall reaches 2/3 only →
 *     r ≤ .33 → 1 (34 points), .34 ≤ r ≤ .66 → 2/3 (33 points), r ≥ .67 → 0:  (34 + 22) / 101 = 56/101
 *   t = .85 .90 .95: only rank 1 is a TP: r ≤ .33 → 1:                     34/101
 *   AP@[.5:.95] = (4 · 382/505 + 3 · 56/101 + 3 · 34/101) / 10 = (1528 + 840 + 510) / 5050 = 1439/2525.
 *   AR@100 = mean over thresholds of the final recall = (4 · 1 + 3 · 2/3 + 3 · 1/3) / 10 = 0.7.
 */
const handGts: Box[][] = [[box(0, 0, 10, 10)], [box(0, 0, 10, 10)], [box(0, 0, 10, 10)]];
const handDets: Detection[][] = [
  [det(0, 0, 10, 10, 0.9), det(100, 100, 10, 10, 0.8)],
  [det(1, 0, 10, 10, 0.7)],
  [det(150, 150, 10, 10, 0.6), det(2, 0, 10, 10, 0.5)],
];

describe('the hand-worked case (3 GT, 5 detections)', () => {
  it('VOC all-point AP = 34/45 with the precision/recall points of the comment', () => {
    const r = evaluateVoc(handGts, handDets);
    const c = r.perClass[0];
    expect(c.tp).toEqual([true, false, true, false, true]);
    expect(c.precision).toEqual([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5]);
    expect(c.recall).toEqual([1 / 3, 1 / 3, 2 / 3, 2 / 3, 1]);
    expect(c.positives).toBe(3);
    expect(r.ap[0]).toBeCloseTo(34 / 45, 14);
    expect(r.mAP).toBeCloseTo(34 / 45, 14);
  });

  it('VOC2007 11-point AP = 42/55', () => {
    expect(evaluateVoc(handGts, handDets, { interpolation: '11-point' }).mAP).toBeCloseTo(42 / 55, 14);
  });

  it('COCO: AP50 = 382/505, AP75 = 56/101, AP@[.5:.95] = 1439/2525, AR100 = 0.7', () => {
    const r = evaluateCoco(handGts, handDets);
    expect(r.AP50).toBeCloseTo(382 / 505, 12);
    expect(r.AP75).toBeCloseTo(56 / 101, 12);
    expect(r.mAP).toBeCloseTo(1439 / 2525, 12);
    expect(r.AR100).toBeCloseTo(0.7, 12);
    expect(r.perClass[0]).toMatchObject({ positives: 3 });
    expect(r.perClass[0].ap).toBeCloseTo(1439 / 2525, 12);
    expect(r.perClass[0].ap50).toBeCloseTo(382 / 505, 12);
    // 10×10 boxes are "small" (area 100 ≤ 32²): small = all; no medium or large ground truth → null (COCO: −1)
    expect(r.APsmall).toBeCloseTo(1439 / 2525, 12);
    expect(r.APmedium).toBeNull();
    expect(r.APlarge).toBeNull();
    // AR@1: one detection per image and class: image 0 → rank 1 (TP at every t), image 1 → rank 3, image 2 → rank 4 (FP)
    expect(r.AR1).toBeCloseTo((4 * (2 / 3) + 3 * (2 / 3) + 3 * (1 / 3)) / 10, 12);
  });

  it('the thresholds are numpy linspace values', () => {
    expect(COCO_IOU_THRESHOLDS).toHaveLength(10);
    expect(COCO_IOU_THRESHOLDS[0]).toBe(0.5);
    expect(COCO_IOU_THRESHOLDS[9]).toBe(0.95);
    expect(COCO_IOU_THRESHOLDS[5]).toBeCloseTo(0.75, 15);
    expect(COCO_RECALL_THRESHOLDS).toHaveLength(101);
    expect(COCO_RECALL_THRESHOLDS[33]).toBe(0.33);
    expect(COCO_RECALL_THRESHOLDS[100]).toBe(1);
  });

  it('the AP helpers on the same points', () => {
    const rec = [1 / 3, 1 / 3, 2 / 3, 2 / 3, 1];
    const prec = [1, 1 / 2, 2 / 3, 1 / 2, 3 / 5];
    expect(vocApAllPoints(rec, prec)).toBeCloseTo(34 / 45, 14);
    expect(vocAp11Point(rec, prec)).toBeCloseTo(42 / 55, 14);
  });
});

describe('limits', () => {
  const gts = [[box(0, 0, 10, 10), box(20, 20, 30, 30, 1)], [box(5, 5, 40, 40)]];

  it('perfect detections give 1 everywhere', () => {
    const dets = gts.map((g) => g.map((b, k) => ({ ...b, score: 1 - k / 10 })));
    const voc = evaluateVoc(gts, dets);
    expect(voc.mAP).toBe(1);
    expect(voc.ap).toEqual([1, 1]);
    const coco = evaluateCoco(gts, dets);
    for (const k of ['mAP', 'AP50', 'AP75', 'AR1', 'AR10', 'AR100'] as const)
      expect(coco[k]).toBeCloseTo(1, 12);
    expect(coco.perClass.map((c) => c.ap)).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
  });

  it('no detections give 0', () => {
    const none: Detection[][] = [[], []];
    const voc = evaluateVoc(gts, none);
    expect(voc.mAP).toBe(0);
    expect(voc.ap).toEqual([0, 0]);
    const coco = evaluateCoco(gts, none);
    expect(coco.mAP).toBe(0);
    expect(coco.AP50).toBe(0);
    expect(coco.AR100).toBe(0);
  });

  it('a duplicate detection of a matched box is a false positive', () => {
    // 2 GT; ranks: exact on A (TP), the same again (duplicate → FP), exact on B (TP)
    // precision 1, 1/2, 2/3; recall 1/2, 1/2, 1 → VOC AP = 1/2 · 1 + 1/2 · 2/3 = 5/6
    const g = [[box(0, 0, 10, 10), box(50, 50, 10, 10)]];
    const d = [[det(0, 0, 10, 10, 0.9), det(0, 0, 10, 10, 0.8), det(50, 50, 10, 10, 0.7)]];
    const voc = evaluateVoc(g, d);
    expect(voc.perClass[0].tp).toEqual([true, false, true]);
    expect(voc.mAP).toBeCloseTo(5 / 6, 14);
    // COCO: r ≤ .5 (51 points) → 1, r > .5 (50 points) → 2/3 at every threshold: (51 + 100/3) / 101 = 253/303
    expect(evaluateCoco(g, d).mAP).toBeCloseTo(253 / 303, 12);
    // without the duplicate, both are perfect
    expect(evaluateVoc(g, [[d[0][0], d[0][2]]]).mAP).toBe(1);
  });

  it('a class with no ground truth is left out of the mean (AP null), a class with no detections counts 0', () => {
    // class 0: perfect; class 1: ground truth, no detection; class 2: detections only
    const g = [[box(0, 0, 10, 10, 0), box(30, 30, 10, 10, 1)]];
    const d = [[det(0, 0, 10, 10, 0.9, 0), det(60, 60, 10, 10, 0.8, 2)]];
    const voc = evaluateVoc(g, d, { numClasses: 4 });
    expect(voc.ap).toEqual([1, 0, null, null]);
    expect(voc.mAP).toBe(0.5);
    const coco = evaluateCoco(g, d, { numClasses: 4 });
    expect(coco.perClass.map((c) => c.ap)).toEqual([expect.closeTo(1, 12), 0, null, null]);
    expect(coco.mAP).toBeCloseTo(0.5, 12);
    // nothing with ground truth at all → null (pycocotools prints −1)
    expect(evaluateVoc([[]], [[det(0, 0, 1, 1, 1)]]).mAP).toBeNull();
    expect(evaluateCoco([[]], [[det(0, 0, 1, 1, 1)]]).mAP).toBeNull();
  });

  it('score ties are ranked by image index, then by position in the image list', () => {
    // one GT in image 1; equal scores: the FP of image 0 ranks first → precision 0, 1/2; recall 0, 1
    const g = [[], [box(0, 0, 10, 10)]];
    const d = [[det(50, 50, 10, 10, 0.5)], [det(0, 0, 10, 10, 0.5)]];
    const voc = evaluateVoc(g, d);
    expect(voc.perClass[0].tp).toEqual([false, true]);
    expect(voc.mAP).toBe(0.5);
    expect(evaluateCoco(g, d).mAP).toBeCloseTo(0.5, 12); // every recall threshold finds precision 1/2
    // the same detections with the images swapped: the TP ranks first
    expect(evaluateVoc([g[1], g[0]], [d[1], d[0]]).mAP).toBe(1);
    // within one image: list order
    const g1 = [[box(0, 0, 10, 10)]];
    expect(evaluateVoc(g1, [[det(50, 50, 10, 10, 0.5), det(0, 0, 10, 10, 0.5)]]).mAP).toBe(0.5);
    expect(evaluateVoc(g1, [[det(0, 0, 10, 10, 0.5), det(50, 50, 10, 10, 0.5)]]).mAP).toBe(1);
  });
});

describe('VOC difficult boxes', () => {
  it('a detection of a difficult box is neither TP nor FP; difficult boxes are not positives', () => {
    const g = [[box(0, 0, 10, 10), box(50, 50, 10, 10, 0, { difficult: true })]];
    const d = [[det(50, 50, 10, 10, 0.9), det(0, 0, 10, 10, 0.8)]];
    const r = evaluateVoc(g, d);
    expect(r.perClass[0]).toMatchObject({ positives: 1, tp: [true], precision: [1], recall: [1], ap: 1 });
    // a class whose only boxes are difficult has no positives → AP null
    expect(evaluateVoc([[box(0, 0, 10, 10, 0, { difficult: true })]], [[]]).ap).toEqual([null]);
  });

  it('the detection goes to the box of highest IoU, even when that one is taken (the devkit rule)', () => {
    // B overlaps A: the second detection's best box is A (already taken) → FP, although B is free
    const g = [[box(0, 0, 10, 10), box(4, 0, 10, 10)]];
    const d = [[det(0, 0, 10, 10, 0.9), det(1, 0, 10, 10, 0.8)]]; // IoU(d2, A) = 9/11 > IoU(d2, B) = 7/13 ≥ 0.5
    expect(evaluateVoc(g, d).perClass[0].tp).toEqual([true, false]);
    // COCO takes the best *unmatched* box instead
    expect(evaluateCoco(g, d).AP50).toBeCloseTo(1, 12);
  });
});

describe('COCO crowd boxes, area ranges and maxDets', () => {
  it('detections matched to a crowd box count neither as TP nor FP; the crowd box is not a positive', () => {
    const crowd = box(100, 100, 80, 80, 0, { crowd: true });
    const g = [[box(0, 0, 10, 10), crowd]];
    // two detections inside the crowd region: IoU with a crowd box = intersection / detection area = 1
    const d = [[det(110, 110, 20, 20, 0.95), det(140, 140, 20, 20, 0.9), det(0, 0, 10, 10, 0.5)]];
    const r = evaluateCoco(g, d);
    expect(r.mAP).toBeCloseTo(1, 12);
    expect(r.perClass[0].positives).toBe(1);
    // the same boxes without the crowd flag: two FPs ranked first
    const plain = evaluateCoco([[g[0][0], { ...crowd, crowd: false }]], d);
    expect(plain.mAP!).toBeLessThan(0.5);
  });

  it('small / medium / large use the ground truth area (the `area` field when present)', () => {
    const g = [[box(0, 0, 20, 20), box(50, 50, 100, 100, 0), box(0, 160, 40, 40, 0, { area: 900 })]];
    const d = [g[0].map((b, k) => ({ ...b, score: 1 - k / 10 }))];
    const r = evaluateCoco(g, d);
    expect(r.APsmall).toBeCloseTo(1, 12); // 20×20 = 400 and the 40×40 box whose area is 900
    expect(r.APmedium).toBeNull(); // 40×40 = 1600 would be medium, but its area is 900
    expect(r.APlarge).toBeCloseTo(1, 12);
    expect(r.ARlarge).toBeCloseTo(1, 12);
  });

  it('maxDets counts detections per image and class: AR1 sees only the best one', () => {
    const g = [[box(0, 0, 10, 10), box(20, 0, 10, 10), box(40, 0, 10, 10)]];
    const d = [g[0].map((b, k) => ({ ...b, score: 0.9 - k / 10 }))];
    const r = evaluateCoco(g, d);
    expect(r.AR1).toBeCloseTo(1 / 3, 12);
    expect(r.AR10).toBeCloseTo(1, 12);
    expect(evaluateCoco(g, d, { maxDets: [1, 2, 2] }).AR100).toBeCloseTo(2 / 3, 12);
  });
});

describe('argument checks', () => {
  it('refuses mismatched lengths and bad labels with INVALID_ARGUMENT', () => {
    const code = errorText;
    expect(code(() => evaluateVoc([[]], []))).toMatch(
      /^INVALID_ARGUMENT: evaluateVoc: 1 images of ground truth but 0/,
    );
    expect(code(() => evaluateCoco([[box(0, 0, 1, 1, 3)]], [[]], { numClasses: 2 }))).toMatch(
      /^INVALID_ARGUMENT: evaluateCoco: ground truth 0 of image 0 has label 3, not a class index below 2 — /,
    );
    expect(code(() => evaluateVoc([[]], [[det(0, 0, 1, 1, NaN)]]))).toMatch(
      /detection 0 of image 0 has score NaN/,
    );
  });
});
