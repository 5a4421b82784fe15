import { letterboxParams } from '@netaug/detection';
import { decodeDetections, decodeRaw, rawToMaps } from './decode';
import { levelLayout } from './levels';

const logit = (p: number) => Math.log(p / (1 - p));

describe('decoding', () => {
  // one level, stride 8, 16×16 input: locations (4, 4), (12, 4), (4, 12), (12, 12); 2 classes
  const levels = levelLayout(16, 16, [8], [[0, Infinity]]);
  const C = 2;
  /** One location's raw outputs: class probabilities, ltrb in pixels, centerness probability. */
  const loc = (p: [number, number], ltrb: number[], ctr: number) => [
    logit(p[0]),
    logit(p[1]),
    ...ltrb.map((d) => Math.log(d / 8)),
    logit(ctr),
  ];
  const raw = Float32Array.from([
    // (4, 4): class 0 at 0.9, centerness 0.4 → score sqrt(0.36) = 0.6; box (4−2, 4−3, 4+4, 4+5) = (2, 1)–(8, 9)
    ...loc([0.9, 0.01], [2, 3, 4, 5], 0.4),
    // (12, 4): class 0 at 0.7, centerness 0.5 → sqrt(0.35) = 0.5916; box (3, 1)–(16, 9): IoU with the first
    // = 5·8 / (48 + 104 − 40) = 0.3571 ≤ 0.6 → kept; class 1 at 0.2 → sqrt(0.1) = 0.3162, same box, other class
    ...loc([0.7, 0.2], [9, 3, 4, 5], 0.5),
    // (4, 12): every class below 0.05 → no candidate
    ...loc([0.04, 0.01], [1, 1, 1, 1], 0.99),
    // (12, 12): class 1 at 0.8, centerness 0.8 → 0.8; box (12−4, 12−4, 12+10, 12+4) = (8, 8)–(22, 16), clipped to
    // the 16×16 input: (8, 8)–(16, 16)
    ...loc([0.02, 0.8], [4, 4, 10, 4], 0.8),
  ]);

  it('rawToMaps: sigmoid probabilities and exp(v) · stride distances', () => {
    const m = rawToMaps(raw, levels, C);
    expect(m.cls[0]).toBeCloseTo(0.9, 6);
    expect(m.centerness[3]).toBeCloseTo(0.8, 6);
    expect(Array.from(m.ltrb.subarray(12, 16)).map((v) => +v.toFixed(4))).toEqual([4, 4, 10, 4]);
  });

  it('scores sqrt(cls · centerness), boxes from ltrb, clipping and class-wise NMS', () => {
    const dets = decodeRaw(raw, levels, C);
    const got = dets.map((d) => [
      d.label,
      +d.score.toFixed(4),
      +d.x.toFixed(3),
      +d.y.toFixed(3),
      +d.w.toFixed(3),
      +d.h.toFixed(3),
    ]);
    expect(got).toEqual([
      [1, 0.8, 8, 8, 8, 8],
      [0, 0.6, 2, 1, 6, 8],
      [0, +Math.sqrt(0.35).toFixed(4), 3, 1, 13, 8],
      [1, +Math.sqrt(0.1).toFixed(4), 3, 1, 13, 8],
    ]);
    // a stricter NMS suppresses the second class-0 box (IoU 0.3571 > 0.3), not the class-1 one
    const strict = decodeRaw(raw, levels, C, { iouThreshold: 0.3 });
    expect(strict.map((d) => [d.label, +d.score.toFixed(4)])).toEqual([
      [1, 0.8],
      [0, 0.6],
      [1, 0.3162],
    ]);
    // threshold, pre-NMS top-k and top-k
    expect(decodeRaw(raw, levels, C, { scoreThreshold: 0.75 }).map((d) => d.label)).toEqual([1, 0]);
    expect(decodeRaw(raw, levels, C, { preNmsTopK: 2 }).length).toBe(2);
    expect(decodeRaw(raw, levels, C, { topK: 1 }).map((d) => d.score.toFixed(1))).toEqual(['0.8']);
  });

  it('undoes a letterbox: boxes in the source image, clipped to it', () => {
    // a 4×8 source letterboxed into 16×16: scale 2, 8×16 placed at top 4
    const p = letterboxParams(4, 8, 16, 16);
    expect([p.scaleX, p.scaleY, p.top, p.left]).toEqual([2, 2, 4, 0]);
    const m = {
      cls: Float32Array.from([0.9, 0, 0, 0, 0, 0, 0, 0]),
      centerness: Float32Array.from([1, 0, 0, 0]),
      ltrb: Float32Array.from([2, 2, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    };
    // input box (2, 2)–(8, 10) → source ((2 − 0)/2, (2 − 4)/2)–(8/2, (10 − 4)/2) = (1, −1)–(4, 3) → clipped (1, 0)–(4, 3)
    const [d] = decodeDetections(m, levels, C, { letterbox: p });
    expect([d.x, d.y, d.w, d.h, d.label]).toEqual([1, 0, 3, 3, 0]);
    expect(d.score).toBeCloseTo(Math.sqrt(0.9), 6);
  });

  it('refuses maps of the wrong size', () => {
    expect(() => decodeRaw(new Float32Array(10), levels, C)).toThrow(/4 locations/);
  });
});
