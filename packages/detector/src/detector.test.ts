import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { createDetector, upsampleNearest, type Detector, type DetectorOptions } from './detector';
import { fcosLoss } from './losses';
import { assignBatchTargets } from './targets';
import { maxAbsDiff, seededImages, useFastBackend } from './test-utils';

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

function input(n: number, seed = 1): tf.Tensor4D {
  return tf.tensor4d(seededImages(n, [32, 32, 1], seed), [n, 32, 32, 1]);
}

describe('Detector', () => {
  let det: Detector;
  beforeAll(() => {
    det = createDetector(OPTIONS);
  });
  afterAll(() => det.dispose());

  it('taps the last block of each stride and exposes backbone + neck + head choice points', () => {
    // MobileNetV2-Tiny (ImageNet form): stem s2, DS, stages s2 (2 blocks), s2 (3), s2 (4), s1 (3), s2 (3), head MB
    expect(det.taps).toEqual([6, 13]); // last stride-8 block (stage 2) and last stride-16 block (stage 4)
    expect(det.backboneLayers.map((b) => b.stride)).toEqual([2, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1]);
    expect(det.choices.width).toEqual([
      'stem',
      'blocks.0',
      'blocks.1',
      'blocks.3',
      'blocks.6',
      'blocks.10',
      'neck',
      'det.tower.0',
      'det.tower.1',
    ]);
    expect(det.choices.expand).toHaveLength(12); // blocks 1–12 are inverted bottlenecks
    expect(det.levels.map((l) => [l.stride, l.height, l.width])).toEqual([
      [8, 4, 4],
      [16, 2, 2],
    ]);
    det.setActive('max');
    expect(det.getHeadPlan()).toEqual({ neck: 21, tower: [31, 31] }); // round(8 · 2.6), round(12 · 2.6)
    det.setActive('min');
    expect(det.getHeadPlan()).toEqual({ neck: 8, tower: [12, 12] });
    const y = det.forward(input(2), { training: false });
    expect(y.shape).toEqual([2, 16 + 4, 3 + 5]);
    y.dispose();
  });

  it('the tiny detector uses only the first channels: weights beyond them do not change its output', () => {
    const x = input(3);
    const cfg = det.setActive('random', new Rng(2));
    const augBefore = det.forward(x, { training: false });
    det.setActive('min');
    const before = det.forward(x, { training: false });
    const tiny = createDetector({ ...OPTIONS, tinyOnly: true });
    const tinyShapes = new Map(tiny.variables().map((v) => [v.name, v.variable.shape]));
    tiny.dispose();
    // overwrite every value outside the tiny block (weights and BN statistics) with noise, keeping a copy
    const saved = det.variables().map((v) => tf.clone(v.variable));
    const rng = new Rng(7);
    tf.tidy(() => {
      for (const v of det.variables()) {
        const s = tinyShapes.get(v.name)!;
        const [lo, hi] = v.name.endsWith('runningVar') ? [0.5, 3] : [-3, 3];
        const noise = tf.tensor(
          Float32Array.from({ length: v.variable.size }, () => rng.uniform(lo, hi)),
          v.variable.shape,
        );
        const inside = tf.pad(
          tf.ones(s),
          s.map((d, i) => [0, v.variable.shape[i] - d] as [number, number]),
        );
        v.variable.assign(tf.add(tf.mul(v.variable, inside), tf.mul(noise, tf.sub(1, inside))));
      }
    });
    const after = det.forward(x, { training: false });
    expect(maxAbsDiff(before, after)).toBe(0);
    // the augmented config does read them
    det.setActive(cfg);
    const augAfter = det.forward(x, { training: false });
    expect(maxAbsDiff(augBefore, augAfter)).toBeGreaterThan(1e-3);
    det.variables().forEach((v, i) => v.variable.assign(saved[i]));
    det.setActive('min');
    tf.dispose([x, before, after, augBefore, augAfter, ...saved]);
  });

  it('equals a tiny-only detector holding the first-channel slices (eval and training mode)', () => {
    const tiny = createDetector({ ...OPTIONS, tinyOnly: true });
    expect(tiny.space).toEqual({ widthMults: [1], expandFactors: [1] });
    // every tiny weight is the leading block of the full detector's (copied by createDetector; checked here)
    const full = new Map(det.variables().map((v) => [v.name, v.variable]));
    expect(tiny.variables().map((v) => v.name)).toEqual(det.variables().map((v) => v.name));
    for (const v of tiny.variables()) {
      const src = full.get(v.name)!;
      const lead = tf.slice(
        src,
        src.shape.map(() => 0),
        v.variable.shape,
      );
      expect([v.name, maxAbsDiff(lead, v.variable)]).toEqual([v.name, 0]);
      lead.dispose();
    }
    // neck / head weights have the tiny widths
    const shapes = new Map(tiny.variables().map((v) => [v.name, v.variable.shape]));
    expect(shapes.get('neck.lateral.0.conv.weight')).toEqual([1, 1, 16, 8]); // stride-8 feature: 16 channels
    expect(shapes.get('neck.lateral.1.conv.weight')).toEqual([1, 1, 32, 8]); // stride-16 feature: 32 channels
    expect(shapes.get('det.tower.0.dw.weight')).toEqual([3, 3, 8, 1]);
    expect(shapes.get('det.tower.1.pw.weight')).toEqual([1, 1, 12, 12]);
    expect(shapes.get('det.pred.weight')).toEqual([1, 1, 12, 8]);
    const x = input(4, 5);
    det.setActive('min');
    for (const training of [false, true]) {
      const a = det.forward(x, { training });
      const b = tiny.forward(x, { training });
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
      tf.dispose([a, b]);
    }
    // the training-mode passes updated the same running statistics
    const stat = (d: Detector) =>
      d.variables().find((v) => v.name === 'det.tower.1.pw.bn.0.runningMean')!.variable;
    const lead = tf.slice(stat(det), [0], [12]);
    expect(maxAbsDiff(lead, stat(tiny))).toBeLessThan(1e-6);
    tf.dispose([x, lead]);
    tiny.dispose();
  });

  it('gradients of the tiny loss are zero outside the tiny block; an augmented config reaches beyond', () => {
    const x = input(2, 9);
    const boxes = [[{ x: 2, y: 3, w: 12, h: 10, label: 1 }], [{ x: 10, y: 8, w: 20, h: 22, label: 2 }]];
    const targets = assignBatchTargets(boxes, det.levels);
    expect(targets.positives).toBeGreaterThan(0);
    const tinyShapes = new Map(
      (() => {
        const t = createDetector({ ...OPTIONS, tinyOnly: true });
        const m = t.variables().map((v) => [v.name, v.variable.shape] as const);
        t.dispose();
        return m;
      })(),
    );
    const named = det.variables().filter((v) => v.trainable);
    const gradsAt = (mode: 'min' | 'max'): { name: string; inside: number; outside: number }[] =>
      tf.tidy((): never => {
        const { grads } = tf.variableGrads(
          () => {
            det.setActive(mode);
            return fcosLoss(det.forward(x, { training: true }), targets, 3).total;
          },
          named.map((v) => v.variable),
        );
        det.setActive('min');
        // Σ|g| inside and outside the tiny block, per variable
        return named.map((v) => {
          const g = grads[v.variable.name];
          const s = tinyShapes.get(v.name)!;
          const inside = tf.pad(
            tf.ones(s),
            s.map((d, i) => [0, v.variable.shape[i] - d] as [number, number]),
          );
          return {
            name: v.name,
            inside: tf.sum(tf.abs(tf.mul(g, inside))).dataSync()[0],
            outside: tf.sum(tf.abs(tf.mul(g, tf.sub(1, inside)))).dataSync()[0],
          };
        }) as never;
      });
    const tiny = gradsAt('min');
    expect(tiny.filter((g) => g.outside !== 0)).toEqual([]);
    expect(tiny.filter((g) => g.inside > 0).length).toBeGreaterThan(tiny.length * 0.9);
    const big = gradsAt('max');
    const reach = big.filter((g) => g.outside > 0).map((g) => g.name);
    for (const n of [
      'stem.conv.weight',
      'neck.lateral.0.conv.weight',
      'det.tower.1.pw.weight',
      'det.pred.weight',
    ])
      expect(reach).toContain(n);
    x.dispose();
  });

  it('is a Supernet: sorting keeps the function', () => {
    const x = input(2, 11);
    det.setActive('max');
    const a = det.forward(x, { training: false });
    det.sortChannels();
    const b = det.forward(x, { training: false });
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    det.setActive('min');
    tf.dispose([x, a, b]);
  });

  it('refuses strides the backbone does not have and inputs of another shape', () => {
    expect(() => createDetector({ ...OPTIONS, strides: [8, 64], inputShape: [64, 64, 1] })).toThrow(
      /no block at stride 64/,
    );
    const x = tf.zeros([1, 16, 16, 1]);
    expect(() => det.forward(x)).toThrow(/expected input of shape \[N,32,32,1\]/);
    x.dispose();
  });
});

describe('other zoo backbones', () => {
  it.each([
    ['mcunet', {}, [24, 48]],
    ['mobilenetv3', {}, [16, 40]],
    ['proxylessnas', {}, [16, 32]],
    ['resnet18', { width: 0.25 }, [32, 64]],
  ] as const)('%s: features at strides 8 and 16, runs at min and max', (backbone, extra, channels) => {
    const det = createDetector({ backbone, numClasses: 2, inputShape: [32, 32, 3], seed: 0, ...extra });
    expect(det.taps.map((t) => det.backboneLayers[t].outTiny)).toEqual(channels);
    const x = tf.tensor4d(seededImages(2, [32, 32, 3], 4), [2, 32, 32, 3]);
    for (const mode of ['min', 'max'] as const) {
      det.setActive(mode);
      const y = det.forward(x, { training: true });
      expect(y.shape).toEqual([2, 20, 7]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
    }
    x.dispose();
    det.dispose();
  });
});

describe('upsampleNearest', () => {
  it('copies each pixel into an f × f block', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = upsampleNearest(x, 2);
    expect(Array.from(y.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, y]);
  });
});
