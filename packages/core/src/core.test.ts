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
  type ModelIR,
} from './index';

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
