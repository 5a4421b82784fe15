import {
  Rng,
  makeDivisible,
  NetAugError,
  validateFactorList,
  samePadding,
  profile,
  foldBatchNorm,
  encodeModelIR,
  decodeModelIR,
  validateModelIR,
  inferShapes,
  modelOutputs,
  type IRNode,
  type ModelIR,
} from './index';
import * as fs from 'fs';
import * as path from 'path';
import { v1FixtureIR } from './__fixtures__/v1-ir';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('uses both halves of a large numeric seed', () => {
    const first = (seed: number) =>
      Array.from(
        { length: 4 },
        (
          (r) => () =>
            r.nextUint32()
        )(new Rng(seed)),
      );
    expect(first(2 ** 32)).not.toEqual(first(0));
    expect(first(2 ** 32 + 1)).not.toEqual(first(1));
    expect(first(5 * 2 ** 32 + 7)).toEqual(first(5 * 2 ** 32 + 7));
  });

  it('restores state exactly, including the cached normal deviate', () => {
    const r = new Rng(7);
    r.normal(); // leaves a spare
    const s = JSON.parse(JSON.stringify(r.getState()));
    const seq = [r.normal(), r.next(), r.int(10), r.normal()];
    const r2 = Rng.fromState(s);
    expect([r2.normal(), r2.next(), r2.int(10), r2.normal()]).toEqual(seq);
  });

  it('int() is uniform enough and in range; normal() has mean 0 / std 1', () => {
    const r = new Rng(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    let s = 0;
    let s2 = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 1)).toBeLessThan(0.02);
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => new Rng(NaN)).toThrow(NetAugError);
    expect(() => new Rng(1).int(0)).toThrow(/1 ≤ n/);
    expect(() => new Rng(1).setState({} as never)).toThrow(/Not an Rng state/);
  });

  it('permutation() is a permutation', () => {
    const p = Array.from(new Rng(3).permutation(100)).sort((x, y) => x - y);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('makeDivisible', () => {
  it('matches the MobileNet rounding on known values', () => {
    // hand-computed: 32*0.35=11.2 -> 16 (min 8? floor((11.2+4)/8)*8 = 8, 8 < 0.9*11.2=10.08 -> 16)
    expect(makeDivisible(32 * 0.35)).toBe(16);
    expect(makeDivisible(16 * 0.35)).toBe(8);
    expect(makeDivisible(160 * 0.35)).toBe(56);
    expect(makeDivisible(320 * 0.35)).toBe(112);
    expect(makeDivisible(96 * 0.35)).toBe(32);
    expect(makeDivisible(3)).toBe(8);
  });
});

describe('validateFactorList', () => {
  it('accepts increasing lists from 1.0 and names the problem otherwise', () => {
    expect(() => validateFactorList('widthMults', [1, 1.8, 2.6])).not.toThrow();
    expect(() => validateFactorList('widthMults', [1.8, 2.6])).toThrow(/does not start with 1.0/);
    expect(() => validateFactorList('expandFactors', [1, 2.2, 1.6])).toThrow(/not strictly increasing/);
    expect(() => validateFactorList('expandFactors', [])).toThrow(/non-empty/);
    try {
      validateFactorList('widthMults', [2]);
    } catch (e) {
      expect((e as NetAugError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('samePadding', () => {
  it('follows TensorFlow SAME: odd pixel after', () => {
    expect(samePadding(28, 3, 2)).toEqual({ before: 0, after: 1, out: 14 });
    expect(samePadding(27, 3, 2)).toEqual({ before: 1, after: 1, out: 14 });
    expect(samePadding(7, 5, 1)).toEqual({ before: 2, after: 2, out: 7 });
  });
});

function tinyIR(): ModelIR {
  const f = (n: number, v = (i: number) => (i % 7) / 7 - 0.4) =>
    Float32Array.from({ length: n }, (_, i) => v(i));
  return {
    schemaVersion: 1,
    name: 'tiny',
    inputShape: [5, 5, 2],
    numClasses: 3,
    output: 'fc',
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [5, 5, 2] },
      {
        op: 'conv2d',
        name: 'c1',
        inputs: ['x'],
        strides: [2, 2],
        padding: 'same',
        weight: { shape: [3, 3, 2, 4], data: f(72) },
      },
      {
        op: 'batchNorm',
        name: 'bn1',
        inputs: ['c1'],
        epsilon: 1e-5,
        gamma: { shape: [4], data: f(4, (i) => 1 + i / 10) },
        beta: { shape: [4], data: f(4, (i) => i / 5) },
        mean: { shape: [4], data: f(4, (i) => -i / 3) },
        variance: { shape: [4], data: f(4, (i) => 0.5 + i) },
      },
      { op: 'activation', name: 'a1', inputs: ['bn1'], activation: 'relu6' },
      { op: 'globalAvgPool', name: 'gap', inputs: ['a1'], keepDims: false },
      {
        op: 'dense',
        name: 'fc',
        inputs: ['gap'],
        weight: { shape: [4, 3], data: f(12) },
        bias: { shape: [3], data: f(3) },
      },
    ],
  };
}

describe('ModelIR', () => {
  it('profiles params (incl. BN gamma/beta) and MACs by hand count', () => {
    const p = profile(tinyIR());
    // conv 72 weights, out 3x3 -> 72*9 = 648 MACs; BN 8 params; dense 12+3 params, 12 MACs
    expect(p.params).toBe(72 + 8 + 15);
    expect(p.macs).toBe(648 + 12);
    expect(profile(tinyIR(), [9, 9, 2]).macs).toBe(72 * 25 + 12);
  });

  it('validates and names the bad node', () => {
    const ir = tinyIR();
    (ir.nodes[5] as { weight: { shape: number[] } }).weight.shape = [6, 2];
    expect(() => validateModelIR(ir)).toThrow(/node 'fc'.*weight has shape \[6,2\]/);
    const ir2 = tinyIR();
    ir2.nodes[2].inputs = ['nope'];
    expect(() => validateModelIR(ir2)).toThrow(/node 'bn1': input 'nope'/);
  });

  it('maxPool: SAME / VALID output shapes, no params or MACs, validation, encode/decode', () => {
    const ir = tinyIR();
    // conv output [3, 3, 4] -> 3×3 stride 2 SAME -> [2, 2, 4]
    ir.nodes.splice(4, 0, {
      op: 'maxPool',
      name: 'mp',
      inputs: ['a1'],
      poolSize: [3, 3],
      strides: [2, 2],
      padding: 'same',
    });
    ir.nodes[5].inputs = ['mp'];
    const shapes = inferShapes(ir);
    expect(shapes.get('mp')).toEqual([2, 2, 4]);
    expect(inferShapes(ir, [112, 112, 2]).get('mp')).toEqual([28, 28, 4]);
    const p = profile(ir);
    expect([p.params, p.macs]).toEqual([72 + 8 + 15, 648 + 12]);
    expect(p.layers.some((l) => l.name === 'mp')).toBe(false);
    expect(decodeModelIR(encodeModelIR(ir))).toEqual(ir);
    const valid = {
      ...ir,
      nodes: ir.nodes.map((n) => (n.op === 'maxPool' ? { ...n, padding: 'valid' } : n)),
    };
    expect(inferShapes(valid as ModelIR).get('mp')).toEqual([1, 1, 4]);
    const bad = { ...ir, nodes: ir.nodes.map((n) => (n.op === 'maxPool' ? { ...n, poolSize: [0, 3] } : n)) };
    expect(() => validateModelIR(bad as ModelIR)).toThrow(/node 'mp': poolSize \[0,3\]/);
    const big = { ...ir, nodes: ir.nodes.map((n) => (n.op === 'maxPool' ? { ...n, poolSize: [5, 5] } : n)) };
    expect(() =>
      validateModelIR({
        ...big,
        nodes: big.nodes.map((n) => (n.op === 'maxPool' ? { ...n, padding: 'valid' } : n)),
      } as ModelIR),
    ).toThrow(/too small for a 5×5 window/);
  });

  it('round-trips through encode/decode bit-exactly', () => {
    const ir = tinyIR();
    const back = decodeModelIR(encodeModelIR(ir));
    expect(back).toEqual(ir);
    expect(() => decodeModelIR(new Uint8Array(16))).toThrow(/bad magic/);
    const bytes = encodeModelIR(ir);
    expect(() => decodeModelIR(bytes.subarray(0, bytes.length - 8))).toThrow(/Truncated/);
  });

  it('folds BN into the conv: same function computed by direct evaluation', () => {
    const ir = tinyIR();
    const folded = foldBatchNorm(ir);
    expect(folded.nodes.map((n) => n.op)).toEqual([
      'input',
      'conv2d',
      'activation',
      'globalAvgPool',
      'dense',
    ]);
    validateModelIR(folded);
    // Evaluate conv+bn vs folded conv at one output position (centre pixel) by hand, per channel.
    const x = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const conv = (w: Float32Array, b: Float32Array | undefined, co: number) => {
      // output pixel (1,1) with stride 2, SAME pad before 0 -> input rows 2..4, cols 2..4
      let s = b ? b[co] : 0;
      for (let ky = 0; ky < 3; ky++)
        for (let kx = 0; kx < 3; kx++)
          for (let ci = 0; ci < 2; ci++)
            s += x[((2 + ky) * 5 + (2 + kx)) * 2 + ci] * w[((ky * 3 + kx) * 2 + ci) * 4 + co];
      return s;
    };
    const c1 = ir.nodes[1] as { weight: { data: Float32Array } };
    const bn = ir.nodes[2] as unknown as Record<
      'gamma' | 'beta' | 'mean' | 'variance',
      { data: Float32Array }
    >;
    const f1 = folded.nodes[1] as { weight: { data: Float32Array }; bias: { data: Float32Array } };
    for (let co = 0; co < 4; co++) {
      const ref =
        ((conv(c1.weight.data, undefined, co) - bn.mean.data[co]) / Math.sqrt(bn.variance.data[co] + 1e-5)) *
          bn.gamma.data[co] +
        bn.beta.data[co];
      expect(conv(f1.weight.data, f1.bias.data, co)).toBeCloseTo(ref, 5);
    }
  });
});

/** A tiny FPN-lite: two stride-2 convs, 1×1 laterals, nearest ×2 of the coarse level + add; concat and bilinear. */
function detectionIR(): ModelIR {
  const f = (n: number, k = 0) => Float32Array.from({ length: n }, (_, i) => ((i * 5 + k) % 9) / 9 - 0.4);
  const conv = (
    name: string,
    input: string,
    k: number,
    cin: number,
    cout: number,
    stride: number,
  ): IRNode => ({
    op: 'conv2d',
    name,
    inputs: [input],
    strides: [stride, stride],
    padding: 'same',
    weight: { shape: [k, k, cin, cout], data: f(k * k * cin * cout, cout) },
    bias: { shape: [cout], data: f(cout, 1) },
  });
  return {
    schemaVersion: 1,
    name: 'fpn-lite',
    inputShape: [8, 8, 2],
    numClasses: 2,
    output: 'p3',
    outputs: ['p3', 'p4', 'cat', 'bil'],
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [8, 8, 2] },
      conv('c3', 'x', 3, 2, 4, 2), // [4, 4, 4]
      conv('c4', 'c3', 3, 4, 6, 2), // [2, 2, 6]
      conv('l3', 'c3', 1, 4, 3, 1), // [4, 4, 3]
      conv('p4', 'c4', 1, 6, 3, 1), // [2, 2, 3]
      { op: 'upsample', name: 'up', inputs: ['p4'], mode: 'nearest', scale: [2, 2] },
      { op: 'add', name: 'p3', inputs: ['l3', 'up'] },
      { op: 'concat', name: 'cat', inputs: ['p3', 'c3', 'up'] }, // [4, 4, 10]
      { op: 'upsample', name: 'bil', inputs: ['c4'], mode: 'bilinear', scale: [2, 3] }, // [4, 6, 6]
    ],
  };
}

describe('ModelIR detection ops and several outputs', () => {
  it('infers concat / upsample shapes; no params or MACs of their own', () => {
    const ir = validateModelIR(detectionIR());
    const shapes = inferShapes(ir);
    expect(shapes.get('up')).toEqual([4, 4, 3]);
    expect(shapes.get('cat')).toEqual([4, 4, 10]);
    expect(shapes.get('bil')).toEqual([4, 6, 6]);
    expect(inferShapes(ir, [16, 16, 2]).get('bil')).toEqual([8, 12, 6]);
    const p = profile(ir);
    // conv MACs only: c3 3·3·2·4 · 16, c4 3·3·4·6 · 4, l3 4·3 · 16, p4 6·3 · 4
    expect(p.macs).toBe(72 * 16 + 216 * 4 + 12 * 16 + 18 * 4);
    expect(p.params).toBe(72 + 4 + 216 + 6 + 12 + 3 + 18 + 3);
    expect(p.layers.map((l) => l.op)).toEqual(['conv2d', 'conv2d', 'conv2d', 'conv2d']);
    // concat of [C] vectors along their only axis
    const vec: ModelIR = {
      ...ir,
      output: 'v',
      outputs: ['v'],
      nodes: [
        ...ir.nodes,
        { op: 'globalAvgPool', name: 'g1', inputs: ['p3'], keepDims: false },
        { op: 'globalAvgPool', name: 'g2', inputs: ['c4'], keepDims: false },
        { op: 'concat', name: 'v', inputs: ['g1', 'g2'] },
      ],
    };
    expect(inferShapes(vec).get('v')).toEqual([9]);
  });

  it('names the node of a bad concat or upsample', () => {
    const edit = (name: string, patch: Record<string, unknown>) => {
      const ir = detectionIR();
      ir.nodes = ir.nodes.map((n) => (n.name === name ? ({ ...n, ...patch } as IRNode) : n));
      return ir;
    };
    expect(() => validateModelIR(edit('cat', { inputs: ['p3'] }))).toThrow(
      /node 'cat': expects at least 2 inputs/,
    );
    expect(() => validateModelIR(edit('cat', { inputs: ['p3', 'c4'] }))).toThrow(
      /node 'cat': concatenates \[\[4,4,3\], \[2,2,6\]\]: only the last axis may differ/,
    );
    expect(() => validateModelIR(edit('up', { scale: [2, 1.5] }))).toThrow(/node 'up': scale \[2,1.5\]/);
    expect(() => validateModelIR(edit('up', { scale: [0, 2] }))).toThrow(/node 'up': scale/);
    expect(() => validateModelIR(edit('up', { mode: 'bicubic' }))).toThrow(/node 'up': mode 'bicubic'/);
    expect(() => validateModelIR(edit('up', { inputs: ['p4', 'c4'] }))).toThrow(/node 'up': expects 1 input/);
  });

  it('several outputs: any shapes, listed once, outputs[0] is output; the single-output form still wants logits', () => {
    const ir = detectionIR();
    expect(modelOutputs(ir)).toEqual(['p3', 'p4', 'cat', 'bil']);
    expect(modelOutputs(tinyIR())).toEqual(['fc']);
    expect(() => validateModelIR({ ...ir, outputs: [] })).toThrow(/outputs must list at least one node/);
    expect(() => validateModelIR({ ...ir, outputs: ['p3', 'nope'] })).toThrow(/output 'nope' is not a node/);
    expect(() => validateModelIR({ ...ir, outputs: ['p3', 'p4', 'p4'] })).toThrow(
      /output 'p4' is listed twice/,
    );
    expect(() => validateModelIR({ ...ir, outputs: ['p4', 'p3'] })).toThrow(
      /output 'p3' is not outputs\[0\]/,
    );
    // a single feature-map output is fine in the outputs form, not in the classifier form
    expect(validateModelIR({ ...ir, outputs: ['p3'] }).outputs).toEqual(['p3']);
    const { outputs: _drop, ...single } = ir;
    expect(() => validateModelIR(single)).toThrow(/output has shape \[4,4,3\], expected \[2\] logits/);
  });

  it('foldBatchNorm keeps the outputs and never changes an output node', () => {
    const ir = detectionIR();
    const bn = (name: string, input: string, c: number): IRNode => ({
      op: 'batchNorm',
      name,
      inputs: [input],
      epsilon: 1e-3,
      gamma: { shape: [c], data: new Float32Array(c).fill(2) },
      beta: { shape: [c], data: new Float32Array(c).fill(0.5) },
      mean: { shape: [c], data: new Float32Array(c) },
      variance: { shape: [c], data: new Float32Array(c).fill(1) },
    });
    // l3 → bn3 is foldable; p4 is an output, so bn4 after it is not folded
    const i3 = ir.nodes.findIndex((n) => n.name === 'l3');
    ir.nodes.splice(i3 + 1, 0, bn('bn3', 'l3', 3));
    ir.nodes.find((n) => n.name === 'p3')!.inputs = ['bn3', 'up'];
    ir.nodes.push(bn('bn4', 'p4', 3));
    ir.outputs = ['p3', 'p4', 'cat', 'bil', 'bn4'];
    validateModelIR(ir);
    const folded = validateModelIR(foldBatchNorm(ir));
    expect(folded.nodes.map((n) => n.name)).not.toContain('bn3');
    expect(folded.nodes.map((n) => n.name)).toContain('bn4');
    expect(folded.outputs).toEqual(ir.outputs);
    expect(folded.nodes.find((n) => n.name === 'p4')).toBe(ir.nodes.find((n) => n.name === 'p4'));
    // a BN that is itself an output, folded into its producer (read by the BN only): the list names the producer
    const ir2 = detectionIR();
    const i4 = ir2.nodes.findIndex((n) => n.name === 'c4');
    ir2.nodes.splice(i4 + 1, 0, bn('bnc', 'c4', 6));
    ir2.nodes = ir2.nodes.map((n) => (n.name === 'p4' || n.name === 'bil' ? { ...n, inputs: ['bnc'] } : n));
    ir2.outputs = ['p3', 'bnc', 'cat', 'bil'];
    validateModelIR(ir2);
    const f2 = validateModelIR(foldBatchNorm(ir2));
    expect(f2.nodes.map((n) => n.name)).not.toContain('bnc');
    expect(f2.outputs).toEqual(['p3', 'c4', 'cat', 'bil']);
    expect(f2.nodes.find((n) => n.name === 'p4')!.inputs).toEqual(['c4']);
  });

  it('.nair round trip of a multi-output model; the single-output form encodes as before', () => {
    const ir = detectionIR();
    const bytes = encodeModelIR(ir);
    const back = decodeModelIR(bytes);
    expect(back).toEqual(ir);
    expect(modelOutputs(back)).toEqual(['p3', 'p4', 'cat', 'bil']);
    expect(Array.from(encodeModelIR(back))).toEqual(Array.from(bytes));
    // no `outputs` key is written for a single-output IR
    const single = new TextDecoder().decode(encodeModelIR(tinyIR()));
    expect(single).not.toContain('"outputs"');
  });

  it('decodes a .nair written before the detection ops, and re-encodes it byte for byte', () => {
    const file = path.join(__dirname, '__fixtures__', 'v1-classifier.nair');
    const bytes = new Uint8Array(fs.readFileSync(file));
    const ir = decodeModelIR(bytes);
    expect(ir).toEqual(v1FixtureIR());
    expect(ir.outputs).toBeUndefined();
    expect(modelOutputs(ir)).toEqual(['fc']);
    validateModelIR(ir);
    expect([profile(ir).params, profile(ir).macs]).toEqual([115, 724]);
    expect(Buffer.from(encodeModelIR(ir)).equals(Buffer.from(bytes))).toBe(true);
  });
});
