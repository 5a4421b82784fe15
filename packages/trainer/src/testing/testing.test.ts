import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, Rng, validateModelIR } from '@netaug/core';
import { ArrayLoader } from './array-loader';
import { textureTask } from './synthetic';
import { TinySupernet } from './tiny-supernet';
import { useCpu, values } from '../test-utils';

beforeAll(useCpu);

/** Reference evaluation of an extracted IR with plain tf ops (conv, BN, relu, pool, dense). */
function runIR(net: TinySupernet, x: tf.Tensor4D): Float32Array {
  const ir = validateModelIR(net.extract());
  return tf.tidy(() => {
    const outs = new Map<string, tf.Tensor>();
    for (const n of ir.nodes) {
      const i = outs.get(n.inputs[0])!;
      const t = (d: { shape: number[]; data: Float32Array }) => tf.tensor(d.data, d.shape);
      let y: tf.Tensor;
      switch (n.op) {
        case 'input':
          y = x;
          break;
        case 'conv2d':
          y = tf.conv2d(i as tf.Tensor4D, t(n.weight) as tf.Tensor4D, n.strides, n.padding);
          break;
        case 'batchNorm':
          y = tf.batchNorm(i, t(n.mean), t(n.variance), t(n.beta), t(n.gamma), n.epsilon);
          break;
        case 'activation':
          y = tf.relu(i);
          break;
        case 'globalAvgPool':
          y = tf.mean(i, [1, 2]);
          break;
        case 'dense':
          y = tf.add(tf.matMul(i as tf.Tensor2D, t(n.weight) as tf.Tensor2D), t(n.bias!));
          break;
        default:
          throw new Error(n.op);
      }
      outs.set(n.name, y);
    }
    return values(outs.get(ir.output)!);
  });
}

describe('TinySupernet', () => {
  const data = textureTask(8, { seed: 4 });
  const x = () => tf.tensor4d(data.images, [8, 8, 8, 1]);

  it('extract() computes what forward() computes in eval mode, for min and a random config', () => {
    const net = new TinySupernet({ seed: 3 });
    const input = x();
    tf.tidy(() => void net.forward(input, { training: true })); // non-trivial running stats
    for (const mode of ['min', 'random'] as const) {
      net.setActive(mode, new Rng(1));
      const fwd = tf.tidy(() => values(net.forward(input, { training: false })));
      runIR(net, input).forEach((v, i) => expect(v).toBeCloseTo(fwd[i], 4));
    }
    input.dispose();
    net.dispose();
  });

  it('sortChannels() leaves the largest network unchanged and puts the most important channels first', () => {
    const net = new TinySupernet({ seed: 3 });
    const input = x();
    net.setActive('max');
    const before = tf.tidy(() => values(net.forward(input, { training: false })));
    const perms = net.sortChannels();
    expect(perms.map((p) => p.variable)).toContain('fc/kernel');
    const after = tf.tidy(() => values(net.forward(input, { training: false })));
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i], 5));
    const fc = values(net.v('fc/kernel'));
    const k = net.numClasses;
    const l1 = (r: number) =>
      Array.from(fc.subarray(r * k, (r + 1) * k)).reduce((a, b) => a + Math.abs(b), 0);
    for (let r = 1; r < net.max.expand; r++) expect(l1(r - 1)).toBeGreaterThanOrEqual(l1(r));
    input.dispose();
    net.dispose();
  });

  it('validates configs and modes', () => {
    const net = new TinySupernet();
    expect(() => net.setActive({ width: [1.5], expand: [1] })).toThrow(NetAugError);
    expect(() => net.setActive('random')).toThrow(/needs an Rng/);
    expect(net.setActive('min_w', new Rng(0)).width).toEqual([1]);
    expect(
      net
        .variables()
        .filter((v) => !v.trainable)
        .map((v) => v.name),
    ).toEqual(['bn1/mean', 'bn1/variance', 'bn2/mean', 'bn2/variance']);
    expect(
      net
        .variables()
        .filter((v) => v.trainable && !v.weightDecay)
        .map((v) => v.name),
    ).toEqual(['bn1/gamma', 'bn1/beta', 'bn2/gamma', 'bn2/beta', 'fc/bias']);
    net.dispose();
  });
});

describe('ArrayLoader', () => {
  const data = textureTask(10, { seed: 1 });

  it('seeded per-epoch shuffle; getState/setState continue the same sequence mid-epoch', async () => {
    const take = async (l: ArrayLoader, k: number) => {
      const out: number[][] = [];
      for await (const b of l) {
        out.push(Array.from(b.labels));
        if (out.length === k) break;
      }
      return out;
    };
    const a = new ArrayLoader({ ...data, batchSize: 3, seed: 7 });
    expect(a.batchesPerEpoch).toBe(4);
    const epoch0 = await take(a, 4);
    expect(epoch0.flat()).toHaveLength(10);
    const first = await take(a, 1); // epoch 1, batch 0
    const saved = a.getState();
    expect(saved).toEqual({ epoch: 1, batch: 1, seed: 7 });
    const rest = await take(a, 3);
    const b = new ArrayLoader({ ...data, batchSize: 3, seed: 7 });
    b.setState(JSON.parse(JSON.stringify(saved)));
    expect(await take(b, 3)).toEqual(rest);
    const c = new ArrayLoader({ ...data, batchSize: 3, seed: 7 });
    c.setState({ epoch: 1, batch: 0, seed: 7 });
    expect((await take(c, 1))[0]).toEqual(first[0]);
    const d = new ArrayLoader({ ...data, batchSize: 3, seed: 8 });
    expect(await take(d, 4)).not.toEqual(epoch0);
  });
});
