import * as tf from '@tensorflow/tfjs-core';
import { giou as rectGiou } from '@netaug/detection';
import { fcosLoss, giouLossLtrb, sigmoidFocalLoss } from './losses';
import type { FcosTargets } from './targets';
import { useCpu } from './test-utils';

beforeAll(useCpu);

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Textbook focal loss of one element, float64: −α(1−p)^γ log p for a positive, −(1−α) p^γ log(1−p) for a negative. */
function focalRef(x: number, t: number, alpha = 0.25, gamma = 2): number {
  const p = sig(x);
  return t === 1 ? -alpha * (1 - p) ** gamma * Math.log(p) : -(1 - alpha) * p ** gamma * Math.log(1 - p);
}

/** GIoU loss of two ltrb boxes around the same point, float64, from the boxes' corners. */
function giouRef(p: number[], g: number[]): number {
  const a = { x: -p[0], y: -p[1], w: p[0] + p[2], h: p[1] + p[3] };
  const b = { x: -g[0], y: -g[1], w: g[0] + g[2], h: g[1] + g[3] };
  return 1 - rectGiou(a, b); // @netaug/detection's giou: an independent implementation on rectangles
}

const value = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('sigmoid focal loss', () => {
  it('matches hand-computed values', () => {
    // (x = 0, t = 1): p = 0.5 → 0.25 · 0.5² · ln 2 = 0.0433217
    expect(focalRef(0, 1)).toBeCloseTo(0.25 * 0.25 * Math.LN2, 12);
    expect(0.25 * 0.25 * Math.LN2).toBeCloseTo(0.0433217, 7);
    // (x = 2, t = 0): p = σ(2) = 0.8807971, 0.75 · p² · softplus(2) = 0.75 · 0.7758035 · 2.1269280 = 1.2375586
    expect(focalRef(2, 0)).toBeCloseTo(1.2375586, 6);
    const logits = [0, 2, -1, 0.5, 3, -4];
    const targets = [1, 0, 0, 0, 1, 0];
    const got = value(sigmoidFocalLoss(tf.tensor2d(logits, [3, 2]), tf.tensor2d(targets, [3, 2])));
    const want = logits.reduce((s, x, i) => s + focalRef(x, targets[i]), 0);
    expect(got[0]).toBeCloseTo(want, 5);
    // other alpha / gamma
    const g2 = value(
      sigmoidFocalLoss(tf.tensor2d(logits, [3, 2]), tf.tensor2d(targets, [3, 2]), { alpha: 0.5, gamma: 1 }),
    );
    expect(g2[0]).toBeCloseTo(
      logits.reduce((s, x, i) => s + focalRef(x, targets[i], 0.5, 1), 0),
      5,
    );
    // gamma 0, alpha 0.5: half the binary cross-entropy
    const bce = logits.reduce((s, x, i) => s - (targets[i] ? Math.log(sig(x)) : Math.log(1 - sig(x))), 0);
    const g0 = value(
      sigmoidFocalLoss(tf.tensor2d(logits, [3, 2]), tf.tensor2d(targets, [3, 2]), { alpha: 0.5, gamma: 0 }),
    );
    expect(g0[0]).toBeCloseTo(bce / 2, 5);
  });
});

describe('GIoU loss on ltrb distances', () => {
  it('matches hand-computed values', () => {
    // pred (1,1,1,1): box (−1,−1)–(1,1), area 4; target (2, 0.5, 1, 1.5): (−2,−0.5)–(1,1.5), area 6;
    // I = 2 · 1.5 = 3, U = 7, C = 3 · 2.5 = 7.5 → GIoU = 3/7 − 0.5/7.5 = 0.3619048, loss 0.6380952
    const cases: [number[], number[], number][] = [
      [[1, 1, 1, 1], [2, 0.5, 1, 1.5], 1 - (3 / 7 - 0.5 / 7.5)],
      [[1, 2, 3, 4], [1, 2, 3, 4], 0], // identical
      [[1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5], 0.75], // nested: I = 1, U = C = 4 → GIoU 0.25
      // disjoint sides cannot happen around one point; a thin wide box against a tall one: I = 1·1... see ref
      [[5, 0.5, 5, 0.5], [0.5, 5, 0.5, 5], giouRef([5, 0.5, 5, 0.5], [0.5, 5, 0.5, 5])],
    ];
    expect(cases[0][2]).toBeCloseTo(0.6380952, 7);
    // the thin/tall pair: I = 1, U = 10 + 10 − 1 = 19, C = 100 → GIoU = 1/19 − 81/100 = −0.7573684 → loss 1.7573684
    expect(cases[3][2]).toBeCloseTo(1 - (1 / 19 - 81 / 100), 10);
    const got = value(giouLossLtrb(tf.tensor2d(cases.map((c) => c[0])), tf.tensor2d(cases.map((c) => c[1]))));
    cases.forEach((c, i) => {
      expect(got[i]).toBeCloseTo(c[2], 5);
      expect(got[i]).toBeCloseTo(giouRef(c[0], c[1]), 5);
    });
  });
});

describe('fcosLoss', () => {
  it('is focal/npos + centerness-weighted GIoU + BCE(centerness)/npos, computed by hand', () => {
    // 3 locations, 2 classes: location 0 → class 1, location 2 → class 0, location 1 background
    const C = 2;
    const raw = [
      // cls0, cls1, v_l, v_t, v_r, v_b, ctr
      [0.3, -0.2, Math.log(2), 0, 0, Math.log(0.5), 0.4],
      [-2, 1, 0.1, 0.2, 0.3, 0.4, 5],
      [1.5, -1, 0, 0, 0, 0, -0.7],
    ];
    const targets: FcosTargets = {
      numLocations: 3,
      labels: Int32Array.from([1, -1, 0]),
      boxIndex: Int32Array.from([0, -1, 1]),
      ltrb: Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0, 2, 0.5, 1, 1.5]),
      centerness: Float32Array.from([0.5, 0, 0.25]),
      positives: 2,
    };
    const oneHot = [
      [0, 1],
      [0, 0],
      [1, 0],
    ];
    let focal = 0;
    raw.forEach((r, k) => oneHot[k].forEach((t, c) => (focal += focalRef(r[c], t))));
    const cls = focal / 2;
    // box: location 0 pred exp(v) = (2, 1, 1, 0.5) against (1, 1, 1, 1); location 2 pred (1,1,1,1) against (2, .5, 1, 1.5)
    const g0 = giouRef([2, 1, 1, 0.5], [1, 1, 1, 1]);
    const g2 = giouRef([1, 1, 1, 1], [2, 0.5, 1, 1.5]);
    const box = (0.5 * g0 + 0.25 * g2) / 0.75;
    const bce = (x: number, t: number) => -(t * Math.log(sig(x)) + (1 - t) * Math.log(1 - sig(x)));
    const ctr = (bce(0.4, 0.5) + bce(-0.7, 0.25)) / 2;
    const r = fcosLoss(tf.tensor3d([raw]), targets, C);
    const [total, c, b, n] = [r.total, r.cls, r.box, r.centerness].map((t) => value(t)[0]);
    expect(c).toBeCloseTo(cls, 5);
    expect(b).toBeCloseTo(box, 5);
    expect(n).toBeCloseTo(ctr, 5);
    expect(total).toBeCloseTo(cls + box + ctr, 5);
    // weights
    const w = fcosLoss(tf.tensor3d([raw]), targets, C, { boxWeight: 2, centernessWeight: 0 });
    expect(value(w.total)[0]).toBeCloseTo(cls + 2 * box, 5);
    tf.dispose([w.cls, w.box, w.centerness]);
  });

  it('per-level outputs give the loss of their concatenation', () => {
    // 2 images, levels of 3 and 2 locations, 2 classes; targets laid out image by image, levels in order
    const C = 2;
    const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed + 1.7 * i));
    const lv0 = tf.tensor3d(vals(2 * 3 * 7, 1), [2, 3, 7]);
    const lv1 = tf.tensor3d(vals(2 * 2 * 7, 2), [2, 2, 7]);
    const targets: FcosTargets = {
      numLocations: 5,
      labels: Int32Array.from([1, -1, 0, -1, 1, -1, 0, -1, -1, 1]),
      boxIndex: Int32Array.from([0, -1, 1, -1, 2, -1, 0, -1, -1, 1]),
      ltrb: Float32Array.from({ length: 40 }, (_, i) => 0.5 + (i % 7) / 4),
      centerness: Float32Array.from([0.5, 0, 0.3, 0, 0.9, 0, 0.2, 0, 0, 0.7]),
      positives: 5,
    };
    const cat = tf.concat([lv0, lv1], 1);
    const a = fcosLoss(cat, targets, C);
    const b = fcosLoss([lv0, lv1], targets, C);
    for (const k of ['total', 'cls', 'box', 'centerness'] as const)
      expect(value(b[k])[0]).toBeCloseTo(value(a[k])[0], 5);
    tf.dispose([lv0, lv1, cat]);
  });

  it('without positives only the classification term remains, divided by 1', () => {
    const raw = tf.tensor3d([[[0.5, 0, 0, 0, 0, 0]]]); // 1 location, 1 class
    const targets: FcosTargets = {
      numLocations: 1,
      labels: Int32Array.from([-1]),
      boxIndex: Int32Array.from([-1]),
      ltrb: new Float32Array(4),
      centerness: new Float32Array(1),
      positives: 0,
    };
    const r = fcosLoss(raw, targets, 1);
    expect(value(r.total)[0]).toBeCloseTo(focalRef(0.5, 0), 6);
    expect(value(r.box)[0]).toBe(0);
    expect(value(r.centerness)[0]).toBe(0);
    value(r.cls);
    raw.dispose();
  });

  it('refuses outputs that do not match the targets', () => {
    const targets: FcosTargets = {
      numLocations: 2,
      labels: new Int32Array(2).fill(-1),
      boxIndex: new Int32Array(2).fill(-1),
      ltrb: new Float32Array(8),
      centerness: new Float32Array(2),
      positives: 0,
    };
    const raw = tf.zeros([1, 3, 6]);
    expect(() => fcosLoss(raw, targets, 1)).toThrow(/target locations/);
    raw.dispose();
  });
});
