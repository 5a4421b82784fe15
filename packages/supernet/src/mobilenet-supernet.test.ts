import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, Rng, type ActiveConfig, type ActiveMode, type Shape3 } from '@netaug/core';
import {
  buildTfModel,
  createSupernet,
  seChannels,
  type CreateSupernetOptions,
  type MobileNetSupernet,
} from './index';
import { maxAbsDiff, registerGradients, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const small = (inputShape: Shape3, extra: Partial<CreateSupernetOptions> = {}): CreateSupernetOptions => ({
  numClasses: 10,
  inputShape,
  smallInput: true,
  ...extra,
});

/** Output channels of every conv / depthwise conv / dense node of an extracted IR, in order. */
function convWidths(net: MobileNetSupernet): number[] {
  return net
    .extract()
    .nodes.filter((n) => n.op === 'conv2d' || n.op === 'depthwiseConv2d' || n.op === 'dense')
    .filter((n) => !n.name.includes('.se.'))
    .map((n) =>
      'weight' in n
        ? n.op === 'depthwiseConv2d'
          ? n.weight.shape[2]
          : n.weight.shape[n.weight.shape.length - 1]
        : -1,
    );
}

describe.each([
  ['mobilenetv2', [8, 8, 3]],
  ['mobilenetv2-tiny', [9, 9, 1]],
  ['proxylessnas', [8, 8, 3]],
  ['mcunet', [8, 8, 3]],
  ['mobilenetv3', [8, 8, 3]],
] as [string, Shape3][])('%s supernet', (name, inputShape) => {
  let net: MobileNetSupernet;
  let x: tf.Tensor;
  beforeAll(() => {
    net = createSupernet(name, small(inputShape, { seed: 3 }));
    x = seededTensor([2, ...inputShape], 11);
    // one training pass at max so every running statistic is non-trivial
    net.setActive('max');
    tf.dispose(net.forward(x, { training: true }));
  });
  afterAll(() => {
    net.dispose();
    x.dispose();
  });

  const rng = new Rng(7);
  it.each(['min', 'max', 'random', 'random', 'min_w', 'min_e'] as ActiveMode[])(
    'forward at %s equals the extracted IR run by buildTfModel (≤ 1e-5)',
    (mode) => {
      const config = net.setActive(mode, rng);
      const ref = net.forward(x, { training: false });
      expect(ref.shape).toEqual([2, 10]);
      const model = buildTfModel(net.extract());
      const got = model.predict(x as tf.Tensor4D);
      expect(maxAbsDiff(ref, got)).toBeLessThanOrEqual(1e-5);
      expect(net.getActive()).toEqual(config);
      tf.dispose([ref, got]);
      model.dispose();
    },
  );

  it('keeps the residual constraint in sampled configs', () => {
    const r = new Rng(1);
    for (let i = 0; i < 20; i++) {
      net.setActive('random', r);
      const plan = net.getActivePlan();
      net.arch.blocks.forEach((b, j) => {
        if (b.shortcut) expect(plan.blocks[j].out).toBe(plan.blocks[j].in);
      });
    }
  });

  it('min has every factor 1 and max is the largest model', () => {
    expect(net.setActive('min')).toEqual({
      width: net.choices.width.map(() => 1),
      expand: net.choices.expand.map(() => 1),
    });
    const maxCfg = net.setActive('max');
    expect(maxCfg.width.every((w) => w === net.space.widthMults[net.space.widthMults.length - 1])).toBe(true);
  });
});

describe('tiny widths at min', () => {
  it('mobilenetv2-tiny', () => {
    const net = createSupernet('mobilenetv2-tiny', small([28, 28, 1]));
    net.setActive('min');
    const mb = (mid: number, out: number) => [mid, mid, out];
    expect(convWidths(net)).toEqual([
      16,
      16,
      8,
      ...mb(48, 8),
      ...mb(48, 8),
      ...mb(48, 16),
      ...mb(96, 16),
      ...mb(96, 16),
      ...mb(96, 24),
      ...mb(144, 24),
      ...mb(144, 24),
      ...mb(144, 24),
      ...mb(144, 32),
      ...mb(192, 32),
      ...mb(192, 32),
      ...mb(192, 56),
      ...mb(336, 56),
      ...mb(336, 56),
      ...mb(336, 112),
      448,
      10,
    ]);
    const ir = net.extract();
    expect(ir.nodes.filter((n) => n.op === 'add').map((n) => n.name)).toEqual(
      [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map((i) => `blocks.${i}.add`),
    );
    net.dispose();
  });

  it('mcunet', () => {
    const net = createSupernet('mcunet', small([32, 32, 3]));
    net.setActive('min');
    const mb = (mid: number, out: number) => [mid, mid, out];
    expect(convWidths(net)).toEqual([
      16,
      16,
      8,
      ...mb(24, 16),
      ...mb(80, 16),
      ...mb(80, 16),
      ...mb(64, 16),
      ...mb(80, 24),
      ...mb(120, 24),
      ...mb(120, 24),
      ...mb(120, 40),
      ...mb(240, 40),
      ...mb(160, 40),
      ...mb(200, 48),
      ...mb(240, 48),
      ...mb(240, 48),
      ...mb(288, 96),
      ...mb(480, 96),
      ...mb(384, 96),
      ...mb(480, 160),
      10,
    ]);
    const kernels = net
      .extract()
      .nodes.filter((n) => n.op === 'depthwiseConv2d')
      .map((n) => ('weight' in n ? n.weight.shape[0] : 0));
    expect(kernels).toEqual([3, 7, 3, 7, 5, 5, 5, 5, 3, 7, 5, 5, 7, 3, 3, 7, 3, 7]);
    net.dispose();
  });

  it('mobilenetv3 (SE widths follow the mid channels; DS block has a shortcut)', () => {
    const net = createSupernet('mobilenetv3', small([32, 32, 3]));
    net.setActive('min');
    const ir = net.extract();
    expect(ir.nodes.some((n) => n.name === 'blocks.0.add')).toBe(true);
    const se = ir.nodes.filter((n) => n.op === 'conv2d' && n.name.endsWith('.se.reduce'));
    expect(se.map((n) => ('weight' in n ? n.weight.shape.slice(2) : []))).toEqual([
      [24, 16],
      [40, 16],
      [40, 16],
      [168, 40],
      [232, 56],
      [232, 56],
      [336, 88],
      [336, 88],
    ]);
    // the max supernet allocates SE for its max mid
    const blk = net.blocks[4] as unknown as { se: { reduce: { weight: { variable: tf.Variable } } } };
    expect(blk.se.reduce.weight.variable.shape[3]).toBeGreaterThan(16);
    net.dispose();
  });
});

describe('active configs', () => {
  it('width and expand choice points are named in config order', () => {
    const net = createSupernet('mobilenetv2-tiny', small([28, 28, 1]));
    expect(net.choices.width.slice(0, 4)).toEqual(['stem', 'blocks.0', 'blocks.1', 'blocks.3']);
    expect(net.choices.width[net.choices.width.length - 1]).toBe('head.0');
    expect(net.choices.expand).toEqual(Array.from({ length: 16 }, (_, i) => `blocks.${i + 1}`));
    net.dispose();
  });

  it('validates a passed ActiveConfig with clear errors', () => {
    const net = createSupernet('mcunet', small([16, 16, 3]));
    const good = net.setActive('random', new Rng(2));
    expect(net.setActive(JSON.parse(JSON.stringify(good)) as ActiveConfig)).toEqual(good);
    const bad = (cfg: unknown, text: RegExp) => {
      expect(() => net.setActive(cfg as ActiveConfig)).toThrow(text);
      try {
        net.setActive(cfg as ActiveConfig);
      } catch (e) {
        expect(e).toBeInstanceOf(NetAugError);
      }
    };
    bad(
      { width: good.width.slice(1), expand: good.expand },
      /width has \d+ values, this supernet has \d+ width choice points/,
    );
    bad({ width: good.width, expand: [...good.expand, 1] }, /expand has/);
    bad(
      { width: good.width.map(() => 1.5), expand: good.expand },
      /width\[0\] \(stem\) = 1.5 is not one of widthMults \[1,1.6,2.2\]/,
    );
    bad({ width: good.width }, /ActiveConfig must be/);
    bad('biggest', /unknown active mode 'biggest'/);
    expect(net.getActive()).toEqual(good); // unchanged after errors
    net.dispose();
  });

  it('same seed gives the same weights and the same sampled configs', () => {
    const a = createSupernet('mobilenetv2-tiny', small([28, 28, 1], { seed: 5 }));
    const b = createSupernet('mobilenetv2-tiny', small([28, 28, 1], { seed: 5 }));
    const c = createSupernet('mobilenetv2-tiny', small([28, 28, 1], { seed: 6 }));
    const va = a.variables();
    const vb = b.variables();
    expect(vb.map((v) => v.name)).toEqual(va.map((v) => v.name));
    const bytes = (v: tf.Variable) => {
      const a = v.dataSync() as Float32Array;
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    };
    for (let i = 0; i < va.length; i++)
      expect(bytes(vb[i].variable).equals(bytes(va[i].variable))).toBe(true);
    expect(bytes(c.variables()[0].variable).equals(bytes(va[0].variable))).toBe(false);
    const ra = new Rng(9);
    const rb = new Rng(9);
    for (let i = 0; i < 5; i++) expect(a.setActive('random', ra)).toEqual(b.setActive('random', rb));
    expect(a.setActive('random')).toEqual(b.setActive('random')); // internal sampler seeded from the seed
    [a, b, c].forEach((n) => n.dispose());
  });
});

describe('variables', () => {
  it('have stable names, trainable and weight-decay flags', () => {
    const net = createSupernet('mobilenetv3', small([16, 16, 3]));
    const vars = net.variables();
    const byName = new Map(vars.map((v) => [v.name, v]));
    expect(byName.size).toBe(vars.length);
    expect(byName.get('stem.conv.weight')).toMatchObject({ trainable: true, weightDecay: true });
    expect(byName.get('blocks.3.expand.conv.weight')).toMatchObject({ trainable: true, weightDecay: true });
    expect(byName.get('blocks.3.expand.bn.gamma')).toMatchObject({ trainable: true, weightDecay: false });
    expect(byName.get('blocks.3.expand.bn.runningMean')).toMatchObject({
      trainable: false,
      weightDecay: false,
    });
    expect(byName.get('blocks.4.se.reduce.bias')).toMatchObject({ trainable: true, weightDecay: false });
    expect(byName.get('head.1.conv.bias')).toMatchObject({ trainable: true, weightDecay: false });
    expect(byName.get('classifier.weight')!.variable.shape).toEqual([3840, 10]);
    expect(net.trainableVariables().length).toBe(vars.filter((v) => v.trainable).length);
    const before = tf.memory().numTensors;
    net.dispose();
    expect(tf.memory().numTensors).toBe(before - vars.length);
  });
});

describe('training', () => {
  it('forward + gradients leak no tensors and reach only the active slice', () => {
    const net = createSupernet('mobilenetv3', small([8, 8, 3], { seed: 1 }));
    const x = seededTensor([2, 8, 8, 3], 4);
    // a middle config, so every active slice is a strict part of its weight
    const cfg = net.setActive({
      width: net.choices.width.map(() => 2),
      expand: net.choices.expand.map(() => 1.6),
    });
    const plan = net.getActivePlan();
    const before = tf.memory().numTensors;
    const named = net.variables().filter((v) => v.trainable);
    const checks = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(net.forward(x, { training: true }))) as tf.Scalar,
        named.map((v) => v.variable),
      );
      expect(value.dataSync()[0]).toBeGreaterThan(0);
      const byName = new Map(named.map((v) => [v.name, grads[v.variable.name]]));
      const expectSlice = (name: string, sizes: number[]) => {
        const g = byName.get(name)!;
        const inside = tf.slice(
          g,
          sizes.map(() => 0),
          sizes,
        );
        const total = tf.sum(tf.abs(g)).dataSync()[0];
        const active = tf.sum(tf.abs(inside)).dataSync()[0];
        expect(active).toBeGreaterThan(0);
        expect(total).toBe(active); // exactly zero outside the active slice
        expect(sizes.some((s, i) => s < g.shape[i])).toBe(true); // the slice is a strict part
      };
      expectSlice('stem.conv.weight', [3, 3, 3, plan.stem]);
      const b = plan.blocks[5];
      expectSlice('blocks.5.expand.conv.weight', [1, 1, b.in, b.mid]);
      expectSlice('blocks.5.depthwise.bn.gamma', [b.mid]);
      expectSlice('blocks.5.se.expand.weight', [1, 1, seChannels(b.mid), b.mid]);
      expectSlice('classifier.weight', [plan.classifierIn, 10]);
      return 1;
    });
    expect(checks).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(net.getActive()).toEqual(cfg);
    x.dispose();
    net.dispose();
  });

  it('forward rejects a wrong input shape with SHAPE_MISMATCH', () => {
    const net = createSupernet('mcunet', small([32, 32, 3]));
    const x = tf.zeros([2, 28, 28, 1]);
    try {
      net.forward(x, { training: false });
      throw new Error('no error');
    } catch (e) {
      expect((e as NetAugError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toMatch(/expected input of shape \[N,32,32,3\], got \[2,28,28,1\]/);
    }
    x.dispose();
    net.dispose();
  });
});
