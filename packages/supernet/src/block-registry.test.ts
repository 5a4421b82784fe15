/** The block-type registry and model specs: a user's block and a user's model, built from data. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, Rng, profile, type ActiveMode } from '@netaug/core';
import {
  BUILTIN_BLOCK_TYPES,
  ConvBnAct,
  activeWidth,
  buildTfModel,
  createSupernet,
  listBlockTypes,
  listModels,
  registerBlock,
  registerModel,
  resolveModelSpec,
  type BlockConfig,
  type BlockContext,
  type BlockPlan,
  type DynamicBlock,
  type ModelSpec,
} from './index';
import { maxAbsDiff, registerGradients, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const expectError = (fn: () => unknown, code: string, text: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NetAugError);
  expect({ code: (err as NetAugError).code, message: (err as Error).message }).toMatchObject({ code });
  expect((err as Error).message).toMatch(text);
};

/**
 * A user's block type `twin`: two 3×3 conv + BN + ReLU layers, the first's width an expand choice
 * (`round(mid·f)`), the second's a width choice; its inner channels are sorted by the second conv's input slices.
 */
function twinBlock(spec: BlockConfig, ctx: BlockContext): DynamicBlock {
  const c = spec.c as number;
  const mid = (spec.mid as number) ?? c;
  const stride = (spec.s as number) ?? 1;
  const W = ctx.space.widthMults[ctx.space.widthMults.length - 1];
  const E = ctx.space.expandFactors[ctx.space.expandFactors.length - 1];
  const midMax = activeWidth(mid, E);
  const outMax = activeWidth(c, W);
  const a = new ConvBnAct(
    `${ctx.name}.a`,
    { kernel: 3, stride, inMax: ctx.inMax, outMax: midMax, act: 'relu' },
    ctx.init,
  );
  const b = new ConvBnAct(
    `${ctx.name}.b`,
    { kernel: 3, stride: 1, inMax: midMax, outMax, act: 'relu' },
    ctx.init,
  );
  const wa = a.conv.weight;
  const wb = b.conv.weight;
  return {
    type: 'twin',
    name: ctx.name,
    choices: { width: [ctx.name], expand: [ctx.name] },
    outTiny: c,
    outMax,
    stride,
    plan: (inC, ch): BlockPlan => ({
      in: inC,
      mid: activeWidth(mid, ch.expand[0]),
      out: activeWidth(c, ch.width[0]),
    }),
    forward: (x, p, training) => b.apply(a.apply(x, p.mid, training), p.out, training),
    emit: (ir, x, p) => b.emitNodes(ir, a.emitNodes(ir, x, p.in, p.mid), p.mid, p.out),
    variables: () => [...a.variables(), ...b.variables()],
    channelGroups: () => [
      {
        importance: [wb, 2],
        members: [[wa, 3], ...a.bn!.variables().map((v) => [v, 0] as const), [wb, 2]],
      },
    ],
  };
}

const TWIN_NET: ModelSpec = {
  stem: { type: 'conv', c: 8, k: 3, s: 2, act: 'relu6' },
  blocks: [
    { type: 'twin', c: 12, mid: 6, s: 2 },
    { type: 'mb', c: 16, e: 3, k: 5, n: 2, act: 'hswish', se: true },
  ],
  head: [{ type: 'conv', c: 24, act: 'relu6' }],
  classifier: { hidden: [{ c: 32, act: 'hswish' }] },
};

describe('a registered block type and a registered model spec', () => {
  beforeAll(() => {
    registerBlock('twin', twinBlock);
    registerModel('twin-net', JSON.parse(JSON.stringify(TWIN_NET)) as ModelSpec, {
      description: 'test model',
    });
  });

  it('are listed', () => {
    expect(listBlockTypes()).toEqual([...BUILTIN_BLOCK_TYPES, 'twin']);
    expect(listModels().find((m) => m.name === 'twin-net')).toEqual({
      name: 'twin-net',
      description: 'test model',
      defaultWidth: undefined,
      widthMults: [1, 1.8, 2.6],
      paperResolution: 224,
    });
  });

  it('builds a supernet whose choice points are the blocks’ in order, n expanded', () => {
    const net = createSupernet('twin-net', { numClasses: 5, inputShape: [16, 16, 3], seed: 1 });
    expect(net.choices).toEqual({
      width: ['stem', 'blocks.0', 'blocks.1', 'head.0', 'head.1'],
      expand: ['blocks.0', 'blocks.1', 'blocks.2'],
    });
    expect(net.blocks.map((b) => b.type)).toEqual(['twin', 'mb', 'mb']);
    expect(net.totalStride).toBe(4);
    net.setActive('min');
    const ir = net.extract();
    expect(ir.nodes.filter((n) => n.op === 'add').map((n) => n.name)).toEqual(['blocks.2.add']);
    // stem 3·3·3·8 + 16; twin 3·3·8·6 + 12 + 3·3·6·12 + 24; ...; hidden dense 24·32 + 32; classifier 32·5 + 5
    const p = profile(ir);
    expect(p.layers.find((l) => l.name === 'blocks.0.a.conv')!.params).toBe(3 * 3 * 8 * 6);
    expect(p.layers.find((l) => l.name === 'head.1.conv')).toMatchObject({
      op: 'dense',
      params: 24 * 32 + 32,
    });
    net.dispose();
  });

  const rng = new Rng(4);
  it.each(['min', 'max', 'random', 'min_w', 'min_e'] as ActiveMode[])(
    'forward at %s equals the extracted IR (≤ 1e-5), in training mode with recompute too',
    (mode) => {
      const net = createSupernet('twin-net', { numClasses: 5, inputShape: [16, 16, 3], seed: 2 });
      const x = seededTensor([2, 16, 16, 3], 3);
      net.setActive(mode, rng);
      const ref = net.forward(x, { training: false });
      const m = buildTfModel(net.extract());
      const got = m.predict(x as tf.Tensor4D);
      expect(maxAbsDiff(ref, got)).toBeLessThanOrEqual(1e-5);
      const vars = net.trainableVariables();
      const g = (recompute: boolean) =>
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () => tf.sum(tf.square(net.forward(x, { training: true, recompute }))) as tf.Scalar,
            vars,
          );
          return vars.map((v) => tf.sum(tf.abs(grads[v.name])).dataSync()[0]);
        });
      const plain = g(false);
      const re = g(true);
      plain.forEach((v, i) => expect(Math.abs(v - re[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, v)));
      tf.dispose([x, ref, got]);
      m.dispose();
      net.dispose();
    },
  );

  it('sorting permutes the user block’s group and keeps the function at max', () => {
    const net = createSupernet('twin-net', { numClasses: 5, inputShape: [16, 16, 3], seed: 3 });
    const x = seededTensor([2, 16, 16, 3], 4);
    net.setActive('max');
    tf.dispose(net.forward(x, { training: true }));
    const before = net.forward(x, { training: false });
    const perms = net.sortChannels();
    const after = net.forward(x, { training: false });
    expect(maxAbsDiff(before, after)).toBeLessThanOrEqual(1e-5);
    expect(perms.filter((p) => p.variable.startsWith('blocks.0.')).map((p) => [p.variable, p.axis])).toEqual([
      ['blocks.0.a.conv.weight', 3],
      ['blocks.0.a.bn.gamma', 0],
      ['blocks.0.a.bn.beta', 0],
      ['blocks.0.a.bn.runningMean', 0],
      ['blocks.0.a.bn.runningVar', 0],
      ['blocks.0.b.conv.weight', 2],
    ]);
    tf.dispose([x, before, after]);
    net.dispose();
  });

  it('small-input form without a smallInput entry: stem stride and the first stride-2 block to 1', () => {
    const spec = resolveModelSpec(TWIN_NET, true);
    expect([spec.stem.s, spec.blocks.map((b) => b.s)]).toEqual([1, [1, undefined, undefined]]);
    const net = createSupernet('twin-net', { numClasses: 5, inputShape: [8, 8, 3], smallInput: true });
    expect(net.totalStride).toBe(1);
    net.dispose();
  });

  it('refuses a taken type, an unknown type, non-JSON specs, bad arguments, and a width for a fixed spec', () => {
    expectError(() => registerBlock('twin', twinBlock), 'INVALID_ARGUMENT', /'twin' is already registered/);
    expectError(() => registerBlock('mb', twinBlock), 'INVALID_ARGUMENT', /'mb' is already registered/);
    expectError(
      () => registerModel('bad-1', { ...TWIN_NET, blocks: [{ type: 'nope', c: 8 }] }),
      'INVALID_CONFIG',
      /unknown block type 'nope'/,
    );
    expectError(
      () => registerModel('bad-2', { ...TWIN_NET, head: [{ type: 'conv', c: 8, act: () => 'relu' }] }),
      'INVALID_CONFIG',
      /head\[0\]\.act is not JSON data/,
    );
    expectError(
      () => registerModel('twin-net', TWIN_NET),
      'INVALID_ARGUMENT',
      /'twin-net' is already registered/,
    );
    registerModel('bad-args', {
      stem: { type: 'conv', c: 8, k: 3, act: 'relu' },
      blocks: [{ type: 'mb', c: 8, k: 3, act: 'relu6' }],
    });
    expectError(
      () => createSupernet('bad-args', { numClasses: 2, inputShape: [8, 8, 3] }),
      'INVALID_CONFIG',
      /blocks\.0 \(mb\): give one of 'e' \(expand ratio\) and 'mid'/,
    );
    registerModel('bad-act', { stem: { type: 'conv', c: 8, act: 'gelu' }, blocks: [] });
    expectError(
      () => createSupernet('bad-act', { numClasses: 2, inputShape: [8, 8, 3] }),
      'INVALID_CONFIG',
      /stem \(conv\): argument 'act' must be one of relu, relu6, hswish, hsigmoid, sigmoid, none, got "gelu"/,
    );
    expectError(
      () => createSupernet('twin-net', { numClasses: 2, inputShape: [8, 8, 3], width: 0.5 }),
      'INVALID_ARGUMENT',
      /fixed widths/,
    );
    const before = tf.memory().numTensors;
    expectError(
      () => createSupernet('bad-args', { numClasses: 2, inputShape: [8, 8, 3] }),
      'INVALID_CONFIG',
      /mid/,
    );
    expect(tf.memory().numTensors).toBe(before); // the stem built before the bad block was freed
  });

  it('a spec function takes the width multiplier', () => {
    registerModel(
      'scaled-net',
      (w) => ({
        stem: { type: 'conv', c: Math.round(8 * w), k: 3, s: 1, act: 'relu' },
        blocks: [{ type: 'basic', c: Math.round(16 * w), s: 2 }],
      }),
      { defaultWidth: 1, widthMults: [1, 2] },
    );
    const net = createSupernet('scaled-net', { numClasses: 3, inputShape: [8, 8, 1], width: 2 });
    net.setActive('max');
    expect(net.getActivePlan().blocks[0]).toEqual({ in: 32, mid: 64, out: 64 });
    expect(net.space.widthMults).toEqual([1, 2]);
    net.dispose();
  });
});
