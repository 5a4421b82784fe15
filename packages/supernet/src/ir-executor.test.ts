import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MODEL_IR_SCHEMA_VERSION, type ModelIR } from '@netaug/core';
import { buildTfModel } from './ir-executor';

const f32 = (...v: number[]) => Float32Array.from(v);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildTfModel: upsample, concat and several outputs, worked out by hand', () => {
  // x = [[1, 2], [3, 4]] (one channel); y = 1×1 conv to (10·x, −x)
  const ir: ModelIR = {
    schemaVersion: MODEL_IR_SCHEMA_VERSION,
    name: 'up-cat',
    inputShape: [2, 2, 1],
    numClasses: 0,
    output: 'near',
    outputs: ['near', 'bil', 'cat', 'bil13', 'vec'],
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
      { op: 'concat', name: 'cat', inputs: ['y', 'x', 'y'] },
      { op: 'upsample', name: 'bil13', inputs: ['y'], mode: 'bilinear', scale: [1, 3] },
      { op: 'globalAvgPool', name: 'gx', inputs: ['x'], keepDims: false },
      { op: 'globalAvgPool', name: 'gy', inputs: ['y'], keepDims: false },
      { op: 'concat', name: 'vec', inputs: ['gy', 'gx'] },
    ],
  };
  const x = tf.tensor4d(f32(1, 2, 3, 4), [1, 2, 2, 1]);
  afterAll(() => x.dispose());

  it('returns every output in order with its shape; predict gives the first', () => {
    const model = buildTfModel(ir);
    const outs = model.predictOutputs(x);
    expect(outs.map((t) => t.shape)).toEqual([
      [1, 4, 4, 1],
      [1, 4, 4, 1],
      [1, 2, 2, 5],
      [1, 2, 6, 2],
      [1, 3],
    ]);
    const [near, bil, cat, bil13, vec] = outs.map((t) => Array.from(t.dataSync()));
    // nearest ×2: output (i, j) copies input (⌊i/2⌋, ⌊j/2⌋)
    // prettier-ignore
    expect(near).toEqual([
      1, 1, 2, 2,
      1, 1, 2, 2,
      3, 3, 4, 4,
      3, 3, 4, 4,
    ]);
    // bilinear ×2, half-pixel centers: along an axis [a, b] → [a, ¾a + ¼b, ¼a + ¾b, b] (source coordinates
    // 0 (clamped), 0.25, 0.75, 1.25 (clamped to b)); rows first, then the same between rows
    // prettier-ignore
    const bilExpected = [
      1, 1.25, 1.75, 2,
      1.5, 1.75, 2.25, 2.5,
      2.5, 2.75, 3.25, 3.5,
      3, 3.25, 3.75, 4,
    ];
    bil.forEach((v, i) => expect(v).toBeCloseTo(bilExpected[i], 6));
    // concat along channels: (10x, −x, x, 10x, −x) per pixel
    expect(cat).toEqual([10, -1, 1, 10, -1, 20, -2, 2, 20, -2, 30, -3, 3, 30, -3, 40, -4, 4, 40, -4]);
    // bilinear ×(1, 3): [a, b] → [a, a, (2a + b)/3, (a + 2b)/3, b, b] per channel
    const row = (a: number, b: number) => [a, a, (2 * a + b) / 3, (a + 2 * b) / 3, b, b];
    const expected13: number[] = [];
    for (const [a, b] of [
      [10, 20],
      [30, 40],
    ]) {
      const c0 = row(a, b);
      const c1 = row(-a / 10, -b / 10);
      for (let i = 0; i < 6; i++) expected13.push(c0[i], c1[i]);
    }
    bil13.forEach((v, i) => expect(v).toBeCloseTo(expected13[i], 5));
    // concat of [C] vectors: mean(y) = (25, −2.5), mean(x) = 2.5
    expect(vec).toEqual([25, -2.5, 2.5]);
    const first = model.predict(x);
    expect(Array.from(first.dataSync())).toEqual(near);
    tf.dispose([...outs, first]);
    model.dispose();
  });

  it('runs a batch as the single images and frees its intermediates', () => {
    const model = buildTfModel(ir);
    const x2 = tf.tensor4d(f32(1, 2, 3, 4, -1, 0.5, 2, 8), [2, 2, 2, 1]);
    const x1 = tf.slice(x2, [1, 0, 0, 0], [1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    const both = model.predictOutputs(x2);
    const second = model.predictOutputs(x1);
    expect(tf.memory().numTensors).toBe(before + 2 * ir.outputs!.length);
    both.forEach((t, k) => {
      const all = t.dataSync();
      const half = all.length / 2;
      expect(Array.from(all.subarray(half))).toEqual(Array.from(second[k].dataSync()));
    });
    tf.dispose([...both, ...second, x1, x2]);
    model.dispose();
  });

  it('a classifier IR keeps predict as before', () => {
    const cls: ModelIR = {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name: 'cls',
      inputShape: [2, 2, 1],
      numClasses: 2,
      output: 'fc',
      nodes: [
        { op: 'input', name: 'x', inputs: [], shape: [2, 2, 1] },
        { op: 'upsample', name: 'up', inputs: ['x'], mode: 'bilinear', scale: [2, 2] },
        { op: 'globalAvgPool', name: 'g', inputs: ['up'], keepDims: false },
        { op: 'concat', name: 'cat', inputs: ['g', 'g'] },
        { op: 'dense', name: 'fc', inputs: ['cat'], weight: { shape: [2, 2], data: f32(1, 0, 0, 2) } },
      ],
    };
    const model = buildTfModel(cls);
    const y = model.predict(x);
    // bilinear ×2 keeps the mean of this 2×2 input: 2.5
    expect(y.shape).toEqual([1, 2]);
    const [a, b] = Array.from(y.dataSync());
    expect(a).toBeCloseTo(2.5, 5);
    expect(b).toBeCloseTo(5, 5);
    const all = model.predictOutputs(x);
    expect(all).toHaveLength(1);
    tf.dispose([y, ...all]);
    model.dispose();
  });
});
