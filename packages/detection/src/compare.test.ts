import { errorText } from './test-support';
import { compareDetections } from './compare';
import type { Detection } from './types';

const det = (x: number, y: number, w: number, h: number, score: number, label = 0): Detection => ({
  x,
  y,
  w,
  h,
  label,
  score,
});

describe('compareDetections', () => {
  it('the same detections in another order are the same boxes', () => {
    const a = [[det(0, 0, 10, 10, 0.9), det(20, 20, 5, 5, 0.4, 3)], []];
    const b = [[det(20, 20, 5, 5, 0.4, 3), det(0, 0, 10, 10, 0.9)], []];
    expect(compareDetections(a, b)).toEqual({
      images: 2,
      reference: 2,
      other: 2,
      matched: 2,
      unmatchedReference: 0,
      unmatchedOther: 0,
      minIoU: 1,
      medianIoU: 1,
      maxScoreDiff: 0,
      same: true,
    });
  });

  it('a hand-worked case: IoUs, the threshold, labels, score differences and leftovers', () => {
    // box 0,0,100,100 vs 0,0,100,99: IoU 9900 / 10000 = 0.99 (matched at 0.99);
    // box 200,0,100,100 vs 201,0,100,100: IoU 9900 / 10100 = 0.980198… (not matched at 0.99, matched at 0.98);
    // a box of label 1 has an identical box of label 2 on the other side: never a pair;
    // the other side's extra low-score detection is left over
    const ref = [[det(0, 0, 100, 100, 0.8), det(200, 0, 100, 100, 0.7), det(50, 300, 20, 20, 0.6, 1)]];
    const oth = [
      [
        det(0, 0, 100, 99, 0.75),
        det(201, 0, 100, 100, 0.7),
        det(50, 300, 20, 20, 0.6, 2),
        det(400, 400, 10, 10, 0.01),
      ],
    ];
    const r = compareDetections(ref, oth);
    expect([r.reference, r.other, r.matched, r.unmatchedReference, r.unmatchedOther]).toEqual([
      3, 4, 1, 2, 3,
    ]);
    expect(r.minIoU).toBeCloseTo(0.99, 12);
    expect(r.maxScoreDiff).toBeCloseTo(0.05, 12);
    expect(r.same).toBe(false);
    const loose = compareDetections(ref, oth, { iouThreshold: 0.98 });
    expect(loose.matched).toBe(2);
    expect(loose.minIoU).toBeCloseTo(9900 / 10100, 12);
    expect(loose.medianIoU).toBeCloseTo(9900 / 10100, 12);
    // minScore drops the stray 0.01 detection on the other side
    expect(compareDetections(ref, oth, { minScore: 0.05 }).other).toBe(3);
  });

  it('each detection pairs once: the higher-scoring reference takes the better overlap', () => {
    const ref = [[det(0, 0, 10, 10, 0.9), det(0, 0, 10, 10, 0.5)]];
    const oth = [[det(0, 0, 10, 10, 0.9)]];
    const r = compareDetections(ref, oth);
    expect([r.matched, r.unmatchedReference, r.unmatchedOther, r.maxScoreDiff]).toEqual([1, 1, 0, 0]);
  });

  it('bad input is a typed error naming the problem', () => {
    const code = errorText;
    expect(code(() => compareDetections([[]], []))).toMatch(
      /INVALID_ARGUMENT: .*1 images of reference detections but 0/,
    );
    expect(code(() => compareDetections([], [], { iouThreshold: 0 }))).toMatch(
      /iouThreshold must be in \(0, 1\]/,
    );
  });
});
