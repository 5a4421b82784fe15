import type { ModelIR } from '../model-ir';

/**
 * A classifier ModelIR in the single-output form of schema version 1, using every op of that version. Its
 * `v1-classifier.nair` was written by `encodeModelIR` before the detection ops (concat, upsample, several
 * outputs) were added; the core tests check that it still decodes to this IR and re-encodes byte for byte.
 */
export function v1FixtureIR(): ModelIR {
  const f = (n: number, k: number) =>
    Float32Array.from({ length: n }, (_, i) => ((i * 7 + k) % 11) / 11 - 0.45);
  return {
    schemaVersion: 1,
    name: 'v1-fixture',
    inputShape: [6, 6, 2],
    numClasses: 3,
    output: 'fc',
    metadata: { producer: 'netaug core test', version: 1, folded: false },
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [6, 6, 2] },
      {
        op: 'conv2d',
        name: 'c1',
        inputs: ['x'],
        strides: [2, 2],
        padding: 'same',
        weight: { shape: [3, 3, 2, 4], data: f(72, 1) },
        bias: { shape: [4], data: f(4, 2) },
      },
      {
        op: 'batchNorm',
        name: 'bn1',
        inputs: ['c1'],
        epsilon: 1e-3,
        gamma: { shape: [4], data: f(4, 3) },
        beta: { shape: [4], data: f(4, 4) },
        mean: { shape: [4], data: f(4, 5) },
        variance: { shape: [4], data: Float32Array.of(0.5, 1, 1.5, 2) },
      },
      { op: 'activation', name: 'a1', inputs: ['bn1'], activation: 'hswish' },
      {
        op: 'depthwiseConv2d',
        name: 'dw',
        inputs: ['a1'],
        strides: [1, 1],
        padding: 'valid',
        weight: { shape: [2, 2, 4, 1], data: f(16, 6) },
      },
      { op: 'maxPool', name: 'mp', inputs: ['a1'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      { op: 'add', name: 'sum', inputs: ['dw', 'mp'] },
      { op: 'globalAvgPool', name: 'se', inputs: ['sum'], keepDims: true },
      { op: 'activation', name: 'gate', inputs: ['se'], activation: 'sigmoid' },
      { op: 'mul', name: 'scaled', inputs: ['sum', 'gate'] },
      { op: 'activation', name: 'a2', inputs: ['scaled'], activation: 'relu6' },
      { op: 'globalAvgPool', name: 'gap', inputs: ['a2'], keepDims: false },
      {
        op: 'dense',
        name: 'fc',
        inputs: ['gap'],
        weight: { shape: [4, 3], data: f(12, 7) },
        bias: { shape: [3], data: f(3, 8) },
      },
    ],
  };
}
