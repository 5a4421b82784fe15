/** ResNet-18/34/50 in the zoo: torchvision's figures, residual consistency, extraction, sorting, training. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, profile, type ActiveMode, type Shape3 } from '@netaug/core';
import { BasicBlock, BottleneckBlock, buildTfModel, createSupernet, type BlockSupernet } from './index';
import { l1NormsAlong } from './sort-channels';
import { maxAbsDiff, registerGradients, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

/** max(1, max |t|). */
const scale = (t: tf.Tensor) =>
  Math.max(
    1,
    tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]),
  );

describe('torchvision figures at 224×224×3, 1000 classes, width 1 (profile of extract() at the tiny config)', () => {
  it.each([
    ['resnet18', 11_689_512, 1_814_073_344],
    ['resnet34', 21_797_672, 3_663_761_408],
    ['resnet50', 25_557_032, 4_089_184_256],
  ])('%s: %i params, %i MACs', (model, params, macs) => {
    // the augment space [1]/[1] allocates the tiny model alone; its `min` is the tiny config of every space
    const net = createSupernet(model, {
      numClasses: 1000,
      inputShape: [224, 224, 3],
      width: 1,
      widthMults: [1],
      expandFactors: [1],
    });
    net.setActive('min');
    const p = profile(net.extract());
    net.dispose();
    expect([p.params, p.macs]).toEqual([params, macs]);
  });

  it('the tiny config of the default augment space has the same figures (resnet18 w0.25)', () => {
    const opts = { numClasses: 1000, inputShape: [224, 224, 3] as Shape3, width: 0.25 };
    const a = createSupernet('resnet18', opts);
    const b = createSupernet('resnet18', { ...opts, widthMults: [1], expandFactors: [1] });
    a.setActive('min');
    const [pa, pb] = [profile(a.extract()), profile(b.extract())];
    expect([pa.params, pa.macs]).toEqual([pb.params, pb.macs]);
    a.setActive('max');
    expect(profile(a.extract()).params).toBeGreaterThan(5 * pa.params);
    [a, b].forEach((n) => n.dispose());
  });
});

describe('structure', () => {
  it('resnet18: ImageNet stem conv 7×7/2 + max-pool 3×3/2; projections where the width or resolution changes', () => {
    const net = createSupernet('resnet18', { numClasses: 10, inputShape: [64, 64, 3], width: 0.25 });
    expect(net.totalStride).toBe(32);
    net.setActive('min');
    const ir = net.extract();
    expect(ir.nodes.slice(0, 5).map((n) => `${n.op} ${n.name}`)).toEqual([
      'input input',
      'conv2d stem.conv',
      'batchNorm stem.bn',
      'activation stem.act',
      'maxPool stem.pool',
    ]);
    const stem = ir.nodes[1];
    expect(stem.op === 'conv2d' && [stem.weight.shape, stem.strides]).toEqual([
      [7, 7, 3, 16],
      [2, 2],
    ]);
    expect(ir.nodes.filter((n) => n.name.endsWith('.shortcut.conv')).map((n) => n.name)).toEqual([
      'blocks.2.shortcut.conv',
      'blocks.4.shortcut.conv',
      'blocks.6.shortcut.conv',
    ]);
    expect(ir.nodes.filter((n) => n.op === 'add')).toHaveLength(8);
    expect(net.choices).toEqual({
      width: [
        'stem',
        'blocks.0.mid',
        'blocks.1.mid',
        'blocks.2.mid',
        'blocks.2',
        'blocks.3.mid',
        'blocks.4.mid',
        'blocks.4',
        'blocks.5.mid',
        'blocks.6.mid',
        'blocks.6',
        'blocks.7.mid',
      ],
      expand: [],
    });
    expect(net.blocks.every((b) => b instanceof BasicBlock)).toBe(true);
    net.dispose();
  });

  it('resnet50: bottlenecks (stride on the 3×3), one expand choice each, small-input stem 3×3/1 without pool', () => {
    const net = createSupernet('resnet50', {
      numClasses: 10,
      inputShape: [16, 16, 3],
      width: 0.25,
      smallInput: true,
    });
    expect(net.totalStride).toBe(8);
    expect(net.blocks).toHaveLength(16);
    expect(net.blocks.every((b) => b instanceof BottleneckBlock)).toBe(true);
    expect(net.choices.width).toEqual(['stem', 'blocks.0', 'blocks.3', 'blocks.7', 'blocks.13']);
    expect(net.choices.expand).toEqual(Array.from({ length: 16 }, (_, i) => `blocks.${i}`));
    net.setActive('min');
    const ir = net.extract();
    expect(ir.nodes.some((n) => n.op === 'maxPool')).toBe(false);
    const byName = new Map(ir.nodes.map((n) => [n.name, n]));
    const w = (name: string) => {
      const n = byName.get(name);
      return n && n.op === 'conv2d' ? [n.weight.shape, n.strides] : undefined;
    };
    expect(w('stem.conv')).toEqual([
      [3, 3, 3, 16],
      [1, 1],
    ]);
    expect(w('blocks.3.conv1.conv')).toEqual([
      [1, 1, 64, 32],
      [1, 1],
    ]);
    expect(w('blocks.3.conv2.conv')).toEqual([
      [3, 3, 32, 32],
      [2, 2],
    ]);
    expect(w('blocks.3.conv3.conv')).toEqual([
      [1, 1, 32, 128],
      [1, 1],
    ]);
    expect(w('blocks.3.shortcut.conv')).toEqual([
      [1, 1, 64, 128],
      [2, 2],
    ]);
    net.dispose();
  });

  it('width multiplier: every layer times w, then makeDivisible(·, 8)', () => {
    const net = createSupernet('resnet50', {
      numClasses: 10,
      inputShape: [16, 16, 3],
      width: 0.3,
      smallInput: true,
    });
    net.setActive('min');
    const outs = net
      .extract()
      .nodes.filter(
        (n) => n.op === 'conv2d' && (n.name === 'stem.conv' || n.name.startsWith('blocks.0.conv')),
      )
      .map((n) => (n.op === 'conv2d' ? n.weight.shape[3] : 0));
    // 64·0.3 = 19.2 → 24 (makeDivisible keeps ≥ 90%), 256·0.3 = 76.8 → 80
    expect(outs).toEqual([24, 24, 24, 80]);
    net.dispose();
  });
});

describe.each([
  ['resnet18', [32, 32, 3], false],
  ['resnet18', [8, 8, 3], true],
  ['resnet50', [8, 8, 3], true],
] as [string, Shape3, boolean][])('%s %j smallInput=%s', (model, inputShape, smallInput) => {
  let net: BlockSupernet;
  let x: tf.Tensor;
  beforeAll(() => {
    net = createSupernet(model, { numClasses: 10, inputShape, width: 0.125, smallInput, seed: 2 });
    x = seededTensor([2, ...inputShape], 5);
    net.setActive('max');
    tf.dispose(net.forward(x, { training: true })); // non-trivial running statistics
  });
  afterAll(() => {
    net.dispose();
    x.dispose();
  });

  const rng = new Rng(3);
  it.each(['min', 'max', 'random', 'min_w', 'min_e'] as ActiveMode[])(
    'forward at %s equals the extracted IR run by buildTfModel (≤ 1e-5 relative)',
    (mode) => {
      net.setActive(mode, rng);
      const ref = net.forward(x, { training: false });
      const model = buildTfModel(net.extract());
      const got = model.predict(x as tf.Tensor4D);
      // relative to the logits: a deep random-weight ResNet's residual sums grow large
      expect(maxAbsDiff(ref, got)).toBeLessThanOrEqual(1e-5 * scale(ref));
      tf.dispose([ref, got]);
      model.dispose();
    },
  );

  it('every residual add matches: identity blocks keep their input width in sampled configs', () => {
    const r = new Rng(1);
    for (let i = 0; i < 20; i++) {
      net.setActive('random', r);
      const plan = net.getActivePlan();
      net.blocks.forEach((b, j) => {
        const identity = !(b as BasicBlock | BottleneckBlock).shortcut;
        if (identity) expect(plan.blocks[j].out).toBe(plan.blocks[j].in);
      });
      const ir = net.extract(); // validated by buildTfModel's shape inference
      buildTfModel(ir).dispose();
    }
  });
});

/** Non-trivial batch-norm parameters and statistics, so that a wrong permutation shows. */
function scrambleBatchNorms(net: BlockSupernet, seed: number): void {
  const rng = new Rng(seed);
  for (const v of net.variables()) {
    if (!v.name.includes('.bn.')) continue;
    const kind = v.name.split('.').pop();
    const vals = Float32Array.from({ length: v.variable.size }, () =>
      kind === 'runningVar'
        ? rng.uniform(0.5, 2)
        : kind === 'gamma'
          ? rng.uniform(0.5, 1.5)
          : rng.uniform(-0.5, 0.5),
    );
    tf.tidy(() => v.variable.assign(tf.tensor(vals, v.variable.shape)));
  }
}

test.each(['resnet18', 'resnet50'])(
  '%s: sortChannels keeps the function at max and sorts inner channels',
  (model) => {
    const net = createSupernet(model, {
      numClasses: 10,
      inputShape: [8, 8, 3],
      width: 0.125,
      smallInput: true,
      seed: 1,
    });
    scrambleBatchNorms(net, 2);
    const x = seededTensor([2, 8, 8, 3], 3);
    net.setActive('max');
    const before = net.forward(x, { training: false });
    const perms = net.sortChannels();
    const after = net.forward(x, { training: false });
    expect(maxAbsDiff(before, after)).toBeLessThanOrEqual(1e-5 * scale(before));
    const names = new Set(perms.map((p) => p.variable));
    expect(names.has('blocks.1.conv1.conv.weight')).toBe(true);
    expect(names.has('blocks.1.conv1.bn.runningVar')).toBe(true);
    expect(perms.find((p) => p.variable === 'blocks.1.conv2.conv.weight')?.axis).toBeDefined();
    for (const b of net.blocks) {
      const consumer = b instanceof BottleneckBlock ? b.conv3 : (b as BasicBlock).conv2;
      const imp = l1NormsAlong((consumer.conv as { weight: { variable: tf.Variable } }).weight.variable, 2);
      for (let i = 1; i < imp.length; i++) expect(imp[i]).toBeLessThanOrEqual(imp[i - 1]);
    }
    expect(net.sortChannels()).toEqual([]);
    tf.dispose([x, before, after]);
    net.dispose();
  },
);

describe('training on the cpu backend', () => {
  it('resnet18 small-input: NetAug SGD steps (tiny + random augmented loss, the last with recompute) lower the tiny loss, no leaks', () => {
    const net = createSupernet('resnet18', {
      numClasses: 4,
      inputShape: [8, 8, 3],
      width: 0.125,
      smallInput: true,
      seed: 4,
    });
    const x = seededTensor([4, 8, 8, 3], 6);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const rng = new Rng(5);
    const vars = net.trainableVariables();
    const tinyLosses: number[] = [];
    const loss = (recompute: boolean) => {
      net.setActive('min');
      const tiny = tf.losses.softmaxCrossEntropy(labels, net.forward(x, { training: true, recompute }));
      tinyLosses.push(tiny.dataSync()[0]);
      net.setActive('random', rng);
      const aug = tf.losses.softmaxCrossEntropy(labels, net.forward(x, { training: true, recompute }));
      return tf.add(tiny, aug) as tf.Scalar;
    };
    const before = tf.memory().numTensors;
    const values: number[] = [];
    for (let step = 0; step < 3; step++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => loss(step === 2), vars);
        values.push(value.dataSync()[0]);
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.05)));
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(values.every(Number.isFinite)).toBe(true);
    // the tiny model's loss on the batch (batch statistics) went down
    expect(tinyLosses[2]).toBeLessThan(tinyLosses[0]);
    tf.dispose([x, labels]);
    net.dispose();
  });

  it('max-pool gradient: the hand-computed case (each window sends its gradient to its maximum)', () => {
    // 5×5 with distinct values, 3×3 window, stride 2, SAME (pads ignored) → 3×3 windows
    const vals = [3, 17, 4, 11, 0, 9, 22, 1, 14, 6, 19, 2, 24, 7, 12, 5, 16, 8, 21, 10, 13, 18, 15, 20, 23];
    const x = tf.tensor4d(vals, [1, 5, 5, 1]);
    const w = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), w)))(x);
    // SAME on 5 with k=3, s=2: 3 outputs, total pad 2 → 1 before, 1 after; window of output i: rows 2i−1…2i+1
    const expected = new Array<number>(25).fill(0);
    for (let oy = 0; oy < 3; oy++)
      for (let ox = 0; ox < 3; ox++) {
        let best = -1;
        for (let y = 2 * oy - 1; y <= 2 * oy + 1; y++)
          for (let xx = 2 * ox - 1; xx <= 2 * ox + 1; xx++)
            if (y >= 0 && y < 5 && xx >= 0 && xx < 5 && (best < 0 || vals[y * 5 + xx] > vals[best]))
              best = y * 5 + xx;
        expected[best] += oy * 3 + ox + 1;
      }
    expect(Array.from(g.dataSync())).toEqual(expected);
    expect(expected.filter((v) => v !== 0).length).toBeGreaterThan(4);
    tf.dispose([x, w, g]);
  });

  it('resnet18 ImageNet form: training-mode gradients reach the stem through the max-pool; recompute agrees', () => {
    const net = createSupernet('resnet18', { numClasses: 3, inputShape: [16, 16, 3], width: 0.125, seed: 9 });
    net.setActive('max');
    const x = seededTensor([2, 16, 16, 3], 7);
    const w = seededTensor([2, 3], 8);
    const stemW = net.variables().find((v) => v.name === 'stem.conv.weight')!.variable;
    const grad = (recompute: boolean) =>
      tf.tidy(() => {
        const f = () => tf.sum(tf.mul(net.forward(x, { training: true, recompute }), w)) as tf.Scalar;
        return Array.from(tf.variableGrads(f, [stemW]).grads[stemW.name].dataSync());
      });
    const plain = grad(false);
    const re = grad(true);
    const big = Math.max(...plain.map(Math.abs));
    expect(big).toBeGreaterThan(1e-4);
    expect(Math.max(...plain.map((v, i) => Math.abs(v - re[i])))).toBeLessThanOrEqual(
      1e-5 * Math.max(1, big),
    );
    tf.dispose([x, w]);
    net.dispose();
  });

  it('max-pool gradient through the ImageNet stem matches central finite differences', () => {
    const net = createSupernet('resnet18', { numClasses: 3, inputShape: [16, 16, 3], width: 0.125, seed: 9 });
    net.setActive('min');
    const x = seededTensor([2, 16, 16, 3], 7);
    const w = seededTensor([2, 3], 8);
    // eval mode: conv, affine BN, ReLU, max-pool, add, mean and dense are piecewise linear in the stem weights, so
    // central differences are exact up to float32 rounding away from the kinks
    const f = () => tf.tidy(() => tf.sum(tf.mul(net.forward(x, { training: false }), w)) as tf.Scalar);
    const stemW = net.variables().find((v) => v.name === 'stem.conv.weight')!.variable;
    const g = tf.tidy(() => tf.variableGrads(f, [stemW]).grads[stemW.name].dataSync());
    const base = stemW.dataSync().slice();
    const eps = 2e-3;
    const at = (i: number, d: number) => {
      const v = base.slice();
      v[i] += d;
      tf.tidy(() => stemW.assign(tf.tensor(v, stemW.shape)));
      return f().dataSync()[0];
    };
    let checked = 0;
    for (const i of [0, 7, 50, 123, 301, 777, 1000, 1150]) {
      if (i >= base.length) continue;
      const fd = (at(i, eps) - at(i, -eps)) / (2 * eps);
      expect(Math.abs(fd - g[i])).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(g[i])));
      checked++;
    }
    tf.tidy(() => stemW.assign(tf.tensor(base, stemW.shape)));
    expect(checked).toBe(8);
    expect(Array.from(g).some((v) => Math.abs(v) > 1e-4)).toBe(true);
    tf.dispose([x, w]);
    net.dispose();
  });
});
