import { MODEL_IR_SCHEMA_VERSION, type IRNode, type ModelIR } from '@netaug/core';
import { humanBytes } from '../src/output';
import { deployFigures } from '../src/run/deploy';

const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const bn = (name: string, input: string, c: number): IRNode => ({
  op: 'batchNorm',
  name,
  inputs: [input],
  gamma: t([c]),
  beta: t([c]),
  mean: t([c]),
  variance: t([c]),
  epsilon: 1e-5,
});

/**
 * input 8×8×1 → conv 3×3 (4) → bn → relu ─┬→ conv 1×1 (4) → bn ─→ add → pool → dense (3)
 *                                          └──────────────────────┘
 */
const ir: ModelIR = {
  schemaVersion: MODEL_IR_SCHEMA_VERSION,
  name: 'hand',
  inputShape: [8, 8, 1],
  numClasses: 3,
  output: 'fc',
  nodes: [
    { op: 'input', name: 'x', inputs: [], shape: [8, 8, 1] },
    { op: 'conv2d', name: 'c1', inputs: ['x'], strides: [1, 1], padding: 'same', weight: t([3, 3, 1, 4]) },
    bn('b1', 'c1', 4),
    { op: 'activation', name: 'r1', inputs: ['b1'], activation: 'relu' },
    { op: 'conv2d', name: 'c2', inputs: ['r1'], strides: [1, 1], padding: 'same', weight: t([1, 1, 4, 4]) },
    bn('b2', 'c2', 4),
    { op: 'add', name: 'sum', inputs: ['r1', 'b2'] },
    { op: 'globalAvgPool', name: 'pool', inputs: ['sum'], keepDims: false },
    { op: 'dense', name: 'fc', inputs: ['pool'], weight: t([4, 3]), bias: t([3]) },
  ] as IRNode[],
};

describe('deploy figures', () => {
  it('weights after BN folding and the peak of live activations, worked out by hand', () => {
    const d = deployFigures(ir);
    // weights 36 + 16 + 12 = 64; biases (one per output channel of each layer) 4 + 4 + 3 = 11
    expect(d.weightsBytes).toEqual({ float32: 4 * 75, int8: 64 + 4 * 11 });
    // x (64) lives until c1; c1/b1/r1 share one buffer (256) read until `sum`; c2/b2 share one (256);
    // `sum` writes a new buffer (256) while reading both: 768 elements at `sum`, the peak (c1: 64 + 256 = 320;
    // c2: 256 + 256 = 512)
    expect(d.peakActivationBytes).toEqual({ float32: 4 * 768, int8: 768 });
    expect(d.peakAt).toBe('sum');
  });

  it('humanBytes', () => {
    expect([humanBytes(812), humanBytes(3072), humanBytes(310_000), humanBytes(1_212_709)]).toEqual([
      '812 B',
      '3.1 KB',
      '310 KB',
      '1.21 MB',
    ]);
  });
});
