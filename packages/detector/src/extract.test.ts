/**
 * `Detector.extract()`: the active detector as a ModelIR with one output per level, checked against the
 * detector's own eval-mode forward through the supernet's IR executor (`buildTfModel`), with batch-norm statistics,
 * affine parameters, box scales and predictor weights all far from their initial values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, decodeModelIR, encodeModelIR, inferShapes, modelOutputs, profile } from '@netaug/core';
import { buildTfModel } from '@netaug/supernet';
import { createDetector, DETECTOR_OUTPUT_LAYOUT, type Detector, type DetectorOptions } from './detector';
import { concatRawOutputs, decodeRaw } from './decode';
import { seededImages, useFastBackend } from './test-utils';

beforeAll(useFastBackend);

const OPTIONS: DetectorOptions = {
  backbone: 'mobilenetv2-tiny',
  numClasses: 3,
  inputShape: [32, 32, 1],
  strides: [8, 16],
  neckChannels: 8,
  headChannels: 12,
  seed: 3,
};

/**
 * Moves every batch norm, box scale and the predictor away from their initialisation: a few training-mode passes
 * at several configs (running statistics of real activations, not 0 / 1), then random gamma and beta, scales 1.3,
 * 0.7, … and a predictor of N(0, 0.6²) weights and N(0, 0.5²) biases, so that the outputs vary by units.
 */
function perturb(det: Detector, seed: number): void {
  const [h, w, c] = det.inputShape;
  const rng = new Rng(seed);
  const configs = ['max', 'random', 'min', 'min'] as const;
  configs.forEach((mode, i) => {
    det.setActive(mode, rng);
    const x = tf.tensor4d(seededImages(4, [h, w, c], seed + i), [4, h, w, c]);
    tf.dispose([x, det.forward(x, { training: true })]);
  });
  det.setActive('min');
  tf.tidy(() => {
    for (const v of det.variables()) {
      const n = v.variable.size;
      const fill = (f: () => number) => tf.tensor(Float32Array.from({ length: n }, f), v.variable.shape);
      if (v.name.endsWith('.gamma')) v.variable.assign(fill(() => rng.uniform(0.6, 1.4)));
      else if (v.name.endsWith('.beta')) v.variable.assign(fill(() => rng.normal(0, 0.2)));
      else if (v.name.startsWith('det.scale.'))
        v.variable.assign(fill(() => (v.name.endsWith('0') ? 1.3 : 0.7)));
      else if (v.name === 'det.pred.weight') v.variable.assign(fill(() => rng.normal(0, 0.6)));
      else if (v.name === 'det.pred.bias') v.variable.assign(fill(() => rng.normal(0, 0.5)));
    }
  });
}

/** Max |detector levels − IR outputs| per level, and the largest |value| of each level. */
function compare(det: Detector, x: tf.Tensor4D): { diff: number[]; scale: number[] } {
  const ir = det.extract();
  const model = buildTfModel(ir);
  try {
    return tf.tidy(() => {
      const ref = det.forwardLevels(x, { training: false });
      const got = model.predictOutputs(x);
      expect(got.map((t) => t.shape)).toEqual(ref.map((t) => t.shape));
      return {
        diff: ref.map((r, l) => tf.max(tf.abs(tf.sub(r, got[l]))).dataSync()[0]),
        scale: ref.map((r) => tf.max(tf.abs(r)).dataSync()[0]),
      };
    });
  } finally {
    model.dispose();
  }
}

describe('Detector.extract', () => {
  let det: Detector;
  beforeAll(() => {
    det = createDetector(OPTIONS);
    perturb(det, 1);
  });
  afterAll(() => det.dispose());

  it('the tiny detector: the IR executor matches its eval-mode forward within 1e-5 on every level', () => {
    det.setActive('min');
    const x = tf.tensor4d(seededImages(5, [32, 32, 1], 40), [5, 32, 32, 1]);
    const { diff, scale } = compare(det, x);
    console.log('tiny detector: max |Δ| per level', diff, 'max |output|', scale);
    for (const s of scale) expect(s).toBeGreaterThan(0.5); // the comparison is not of near-zero values
    for (const d of diff) expect(d).toBeLessThanOrEqual(1e-5);
    x.dispose();
  });

  it('an augmented config, three levels (8, 16, 32) and one tower layer match too (1e-5 relative)', () => {
    const d3 = createDetector({ ...OPTIONS, inputShape: [64, 64, 3], strides: [8, 16, 32], headDepth: 1 });
    try {
      perturb(d3, 2);
      d3.setActive('random', new Rng(5));
      const x = tf.tensor4d(seededImages(3, [64, 64, 3], 41), [3, 64, 64, 3]);
      const { diff, scale } = compare(d3, x);
      console.log('random config, 3 levels: max |Δ| per level', diff, 'max |output|', scale);
      expect(diff).toHaveLength(3);
      for (const s of scale) expect(s).toBeGreaterThan(1);
      // a wider, deeper graph: float32 sums in another order (matMul vs conv2d, the backend's depthwise kernel)
      // differ by a few ulps of the largest values; 1e-5 relative to the level's largest output
      diff.forEach((d, l) => expect(d).toBeLessThanOrEqual(1e-5 * scale[l]));
      x.dispose();
    } finally {
      d3.dispose();
    }
  });

  it('layout: one [H, W, C + 5] output per level; concatenated they are forward’s rows; .nair round trip', () => {
    det.setActive('min');
    const before = tf.memory().numTensors;
    const ir = det.extract();
    expect(tf.memory().numTensors).toBe(before); // extract() leaves no tensor behind
    expect(modelOutputs(ir)).toEqual(['det.pred.0', 'det.pred.1']);
    const shapes = inferShapes(ir);
    expect(modelOutputs(ir).map((o) => shapes.get(o))).toEqual([
      [4, 4, 8],
      [2, 2, 8],
    ]);
    expect(ir.numClasses).toBe(3);
    expect(ir.metadata).toMatchObject({
      task: 'detection',
      strides: '[8,16]',
      outputLayout: DETECTOR_OUTPUT_LAYOUT,
      activeConfig: JSON.stringify(det.getActive()),
    });
    // the neck and head nodes, in order, for level 1 (the coarse one, no upsampling into it)
    const names = ir.nodes.map((n) => n.name);
    expect(names.filter((n) => n.startsWith('neck.'))).toEqual([
      'neck.lateral.0.conv',
      'neck.lateral.0.bn',
      'neck.lateral.1.conv',
      'neck.lateral.1.bn',
      'neck.up.0',
      'neck.add.0',
    ]);
    expect(names.filter((n) => n.startsWith('det.') && n.endsWith('.1'))).toEqual([
      'det.tower.0.dw.1',
      'det.tower.0.dw.bn.1',
      'det.tower.0.dw.act.1',
      'det.tower.0.pw.1',
      'det.tower.0.pw.bn.1',
      'det.tower.0.pw.act.1',
      'det.tower.1.dw.1',
      'det.tower.1.dw.bn.1',
      'det.tower.1.dw.act.1',
      'det.tower.1.pw.1',
      'det.tower.1.pw.bn.1',
      'det.tower.1.pw.act.1',
      'det.pred.1',
    ]);
    expect(decodeModelIR(encodeModelIR(ir))).toEqual(ir);

    const x = tf.tensor4d(seededImages(2, [32, 32, 1], 42), [2, 32, 32, 1]);
    const model = buildTfModel(ir);
    const outs = model.predictOutputs(x).map((t) => {
      const d = t.dataSync() as Float32Array;
      t.dispose();
      return d;
    });
    model.dispose();
    const raw = det.forward(x, { training: false });
    const rows = raw.dataSync() as Float32Array;
    raw.dispose();
    x.dispose();
    const per = 20 * 8;
    for (let i = 0; i < 2; i++) {
      const levels = outs.map((o) => o.subarray((i * o.length) / 2, ((i + 1) * o.length) / 2));
      const cat = concatRawOutputs(levels, det.levels, 3);
      let m = 0;
      for (let k = 0; k < per; k++) m = Math.max(m, Math.abs(cat[k] - rows[i * per + k]));
      expect(m).toBeLessThanOrEqual(1e-5);
      // decodeRaw takes the per-level arrays directly
      expect(decodeRaw(levels, det.levels, 3, { scoreThreshold: 0.3 })).toEqual(
        decodeRaw(cat, det.levels, 3, { scoreThreshold: 0.3 }),
      );
    }
    expect(() => concatRawOutputs([outs[0]], det.levels, 3)).toThrow(/1 output arrays for 2 levels/);
    expect(() => concatRawOutputs([outs[1], outs[0]], det.levels, 3)).toThrow(
      /output 0 \(stride 8\) has 64 values, expected 4×4×8/,
    );
  });

  it('profile: the neck and head MACs of the tiny detector, counted by hand', () => {
    det.setActive('min');
    const p = profile(det.extract());
    const headMacs = p.layers
      .filter((l) => l.name.startsWith('neck.') || l.name.startsWith('det.'))
      .reduce((a, l) => a + l.macs, 0);
    // laterals: 1×1 from the 16-channel stride-8 feature (4×4) and the 32-channel stride-16 feature (2×2) to 8;
    // per location of each level: dw 3×3 on 8, 1×1 8→12, dw 3×3 on 12, 1×1 12→12, predictor 12→3+5
    const laterals = 16 * 8 * 16 + 32 * 8 * 4;
    const perLocation = 9 * 8 + 8 * 12 + 9 * 12 + 12 * 12 + 12 * 8;
    expect(headMacs).toBe(laterals + perLocation * (16 + 4));
    expect(headMacs).toBe(13392);
  });
});
