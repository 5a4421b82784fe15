import { MODEL_IR_SCHEMA_VERSION, foldBatchNorm, type ModelIR } from '@netaug/core';
import { mobilenetLike, randomImages, stack, maxAbsDiff } from '../test-utils';
import { runModelIR, runModelIROutputs } from './run-model-ir';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('runModelIR', () => {
  it('computes a hand-checked conv (stride 2, SAME with the odd pixel after) → pool → dense → relu', () => {
    const ir: ModelIR = {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name: 'tiny',
      inputShape: [4, 4, 1],
      numClasses: 2,
      output: 'relu',
      nodes: [
        { op: 'input', name: 'x', inputs: [], shape: [4, 4, 1] },
        {
          op: 'conv2d',
          name: 'conv',
          inputs: ['x'],
          strides: [2, 2],
          padding: 'same',
          weight: { shape: [3, 3, 1, 1], data: new Float32Array(9).fill(1) },
          bias: { shape: [1], data: f32(0.5) },
        },
        { op: 'globalAvgPool', name: 'gap', inputs: ['conv'], keepDims: false },
        {
          op: 'dense',
          name: 'fc',
          inputs: ['gap'],
          weight: { shape: [1, 2], data: f32(1, -2) },
          bias: { shape: [2], data: f32(0, 1) },
        },
        { op: 'activation', name: 'relu', inputs: ['fc'], activation: 'relu' },
      ],
    };
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const seen: Record<string, number[]> = {};
    const y = runModelIR(ir, x, 1, { onNode: (n, out) => (seen[n.name] = Array.from(out)) });
    // windows: rows/cols 0..2 | cols 2..3 (+pad) | rows 2..3 (+pad) | both
    expect(seen.conv).toEqual([54.5, 45.5, 72.5, 54.5]);
    expect(seen.fc).toEqual([56.75, -112.5]);
    expect(Array.from(y)).toEqual([56.75, 0]);
  });

  it('computes batch norm, hswish, a broadcast mul and a depthwise conv by hand', () => {
    const ir: ModelIR = {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name: 'tiny2',
      inputShape: [1, 2, 2],
      numClasses: 2,
      output: 'fc',
      nodes: [
        { op: 'input', name: 'x', inputs: [], shape: [1, 2, 2] },
        {
          op: 'batchNorm',
          name: 'bn',
          inputs: ['x'],
          epsilon: 1,
          gamma: { shape: [2], data: f32(2, 1) },
          beta: { shape: [2], data: f32(0, 1) },
          mean: { shape: [2], data: f32(1, 0) },
          variance: { shape: [2], data: f32(3, 0) },
        },
        { op: 'activation', name: 'hs', inputs: ['bn'], activation: 'hswish' },
        // depthwise 1×2 VALID over the width: out = w0·x[0] + w1·x[1] per channel
        {
          op: 'depthwiseConv2d',
          name: 'dw',
          inputs: ['hs'],
          strides: [1, 1],
          padding: 'valid',
          weight: { shape: [1, 2, 2, 1], data: f32(1, 2, 10, 20) },
        },
        { op: 'globalAvgPool', name: 'g', inputs: ['dw'], keepDims: true },
        { op: 'mul', name: 'm', inputs: ['dw', 'g'] },
        { op: 'globalAvgPool', name: 'p', inputs: ['m'], keepDims: false },
        { op: 'dense', name: 'fc', inputs: ['p'], weight: { shape: [2, 2], data: f32(1, 0, 0, 1) } },
      ],
    };
    // pixel 0 = (-1, 2) → bn (-2, 3) → hswish (-1/3, 3); pixel 1 = (4, -1) → bn (3, 0) → hswish (3, 0)
    const y = runModelIR(ir, f32(-1, 2, 4, -1));
    const c0 = (-1 / 3) * 1 + 3 * 10; // 29.666…
    const c1 = 3 * 2 + 0 * 20; // 6
    expect(y[0]).toBeCloseTo(c0 * c0, 4);
    expect(y[1]).toBeCloseTo(c1 * c1, 4);
  });

  it('gives the same logits with batch norm folded, and per image as in a batch', () => {
    const ir = mobilenetLike([28, 28, 1]);
    const imgs = randomImages([28, 28, 1], 3);
    const batch = runModelIR(ir, stack(imgs), 3);
    const folded = runModelIR(foldBatchNorm(ir), stack(imgs), 3);
    expect(maxAbsDiff(batch, folded)).toBeLessThan(1e-4);
    const single = runModelIR(ir, imgs[2], 1);
    expect(maxAbsDiff(batch.subarray(20, 30), single)).toBe(0);
    expect(Math.max(...Array.from(batch).map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('rejects an input of the wrong size', () => {
    expect(() => runModelIR(mobilenetLike([28, 28, 1]), new Float32Array(10), 1)).toThrow(
      /SHAPE|expected batch/,
    );
  });

  describe('upsample and concat, worked out by hand', () => {
    // x = [[1, 2], [3, 4]] (one channel); y = 1×1 conv to (10·x, −x)
    const ir: ModelIR = {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name: 'up-cat',
      inputShape: [2, 2, 1],
      numClasses: 0,
      output: 'near',
      outputs: ['near', 'bil', 'cat', 'cat3', 'bil13'],
      nodes: [
        { op: 'input', name: 'x', inputs: [], shape: [2, 2, 1] },
        { op: 'upsample', name: 'near', inputs: ['x'], mode: 'nearest', scale: [2, 2] },
        { op: 'upsample', name: 'bil', inputs: ['x'], mode: 'bilinear', scale: [2, 2] },
        {
          op: 'conv2d',
          name: 'y',
          inputs: ['x'],
          strides: [1, 1],
          padding: 'same',
          weight: { shape: [1, 1, 1, 2], data: f32(10, -1) },
        },
        { op: 'concat', name: 'cat', inputs: ['y', 'x'] },
        { op: 'concat', name: 'cat3', inputs: ['x', 'y', 'x'] },
        { op: 'upsample', name: 'bil13', inputs: ['y'], mode: 'bilinear', scale: [1, 3] },
      ],
    };
    const x = f32(1, 2, 3, 4);
    const [near, bil, cat, cat3, bil13] = runModelIROutputs(ir, x);

    it('nearest ×2: output (i, j) copies input (⌊i/2⌋, ⌊j/2⌋)', () => {
      // prettier-ignore
      expect(Array.from(near)).toEqual([
        1, 1, 2, 2,
        1, 1, 2, 2,
        3, 3, 4, 4,
        3, 3, 4, 4,
      ]);
      // the single-output entry point returns the first output
      expect(Array.from(runModelIR(ir, x))).toEqual(Array.from(near));
    });

    it('bilinear ×2 with half-pixel centers (PyTorch align_corners=False)', () => {
      // along an axis [a, b] → source coordinates max(0, (i + 0.5)/2 − 0.5) = 0, 0.25, 0.75, 1.25 (clamped to b):
      // [a, ¾a + ¼b, ¼a + ¾b, b]; rows [1, 2] → [1, 1.25, 1.75, 2], [3, 4] → [3, 3.25, 3.75, 4], then the
      // same weights between the rows
      // prettier-ignore
      expect(Array.from(bil)).toEqual([
        1, 1.25, 1.75, 2,
        1.5, 1.75, 2.25, 2.5,
        2.5, 2.75, 3.25, 3.5,
        3, 3.25, 3.75, 4,
      ]);
    });

    it('bilinear ×(1, 3) on two channels: [a, b] → [a, a, (2a + b)/3, (a + 2b)/3, b, b]', () => {
      // y rows: (10, −1), (20, −2) | (30, −3), (40, −4); source columns 0, 0, 1/3, 2/3, 1, 1 (the first clamped)
      const row = (a: number, b: number) => [a, a, (2 * a + b) / 3, (a + 2 * b) / 3, b, b];
      const expected: number[] = [];
      for (const [a, b] of [
        [10, 20],
        [30, 40],
      ]) {
        const c0 = row(a, b);
        const c1 = row(-a / 10, -b / 10);
        for (let i = 0; i < 6; i++) expected.push(c0[i], c1[i]);
      }
      expect(bil13).toHaveLength(2 * 6 * 2);
      bil13.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    });

    it('concat along channels, inputs in order', () => {
      // per pixel: (10x, −x) then x
      expect(Array.from(cat)).toEqual([10, -1, 1, 20, -2, 2, 30, -3, 3, 40, -4, 4]);
      // prettier-ignore
      expect(Array.from(cat3)).toEqual([1, 10, -1, 1, 2, 20, -2, 2, 3, 30, -3, 3, 4, 40, -4, 4]);
    });

    it('runs a batch as the single images, every output', () => {
      const x2 = f32(1, 2, 3, 4, -1, 0.5, 2, 8);
      const both = runModelIROutputs(ir, x2, 2);
      const second = runModelIROutputs(ir, x2.subarray(4), 1);
      both.forEach((o, k) => {
        expect(Array.from(o.subarray(0, o.length / 2))).toEqual(Array.from([near, bil, cat, cat3, bil13][k]));
        expect(Array.from(o.subarray(o.length / 2))).toEqual(Array.from(second[k]));
      });
    });
  });
});
