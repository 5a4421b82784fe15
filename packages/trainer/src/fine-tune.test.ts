import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import type { Callback } from './callbacks';
import { layerUnits, frozenVariables } from './freeze';
import { reestimateBatchNorm } from './bn-reestimate';
import { baseline, netaug } from './strategies';
import { Trainer, type TrainerOptions } from './trainer';
import { removeTmpDirs, setup, useCpu, values } from './test-utils';
import { ArrayLoader } from './testing/array-loader';
import { textureTask } from './testing/synthetic';

beforeAll(useCpu);
afterAll(removeTmpDirs);

const sgd = { type: 'sgd' as const, momentum: 0.9, nesterov: true, weightDecay: 4e-5 };

function trainer(s: ReturnType<typeof setup>, extra: Partial<TrainerOptions> = {}): Trainer {
  return new Trainer({
    supernet: s.supernet,
    trainLoader: s.trainLoader,
    valLoader: s.valLoader,
    optimizer: sgd,
    lrSchedule: { type: 'constant', lr: 0.05 },
    strategies: [baseline()],
    bnReestimation: { images: 32 },
    plots: false,
    logSteps: false,
    sortChannels: 'none',
    ...extra,
  });
}

const snapshot = (s: ReturnType<typeof setup>) =>
  new Map(s.supernet.variables().map((v) => [v.name, values(v.variable)]));
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('fine-tuning: frozen layer units and batch-norm modes', () => {
  it('layerUnits lists the units in forward order; an index out of range names them', () => {
    const s = setup();
    const units = layerUnits(s.supernet);
    expect(units.map((u) => u.name)).toEqual(['conv1', 'bn1', 'conv2', 'bn2', 'fc']);
    expect(units[1].variables).toEqual(['bn1/gamma', 'bn1/beta', 'bn1/mean', 'bn1/variance']);
    expect(frozenVariables(s.supernet, 0).size).toBe(0);
    // the classifier cannot be frozen: 4 is the largest index
    expect(() => frozenVariables(s.supernet, 5)).toThrow(/freezeUntil 5 .* 4 = all but fc/);
    try {
      frozenVariables(s.supernet, 5);
    } catch (e) {
      expect((e as NetAugError).hint).toContain('0 conv1, 1 bn1, 2 conv2, 3 bn2, 4 fc');
    }
  });

  it('freezeUntil 2: conv1 and bn1 weights stay bit-identical, every later trainable weight moves', async () => {
    const s = setup();
    const before = snapshot(s);
    await trainer(s, { freezeUntil: 2, bnReestimation: { enabled: false } }).fit({ epochs: 1 });
    const after = snapshot(s);
    for (const name of ['conv1/kernel', 'bn1/gamma', 'bn1/beta'])
      expect(same(before.get(name)!, after.get(name)!)).toBe(true);
    for (const name of ['conv2/kernel', 'bn2/gamma', 'bn2/beta', 'fc/kernel', 'fc/bias'])
      expect(same(before.get(name)!, after.get(name)!)).toBe(false);
    // batch norm still trains in the frozen units (batchNorm 'train'): their running statistics follow the data
    expect(same(before.get('bn1/mean')!, after.get('bn1/mean')!)).toBe(false);
  });

  it("batchNorm 'keep': the first step's loss is the eval-mode (running-statistics) loss, computed here in float64; statistics never change", async () => {
    const s = setup({ train: 32, batchSize: 16 });
    // running statistics that differ from any batch's moments, so that training-mode BN would give another loss
    for (const v of s.supernet.variables()) {
      if (v.name.endsWith('/mean')) v.variable.assign(tf.fill(v.variable.shape, 0.3));
      if (v.name.endsWith('/variance')) v.variable.assign(tf.fill(v.variable.shape, 2));
    }
    // the first batch the trainer will see: the same loader, same seed
    const twin = new ArrayLoader({ ...textureTask(32, { seed: 1 }), batchSize: 16, seed: 3 });
    let first: { images: Float32Array; labels: Int32Array; shape: number[] } | undefined;
    for await (const b of twin) {
      first ??= { images: new Float32Array(b.images), labels: Int32Array.from(b.labels), shape: [...b.shape] };
    }
    s.supernet.setActive('min');
    const logits = tf.tidy(() =>
      values(s.supernet.forward(tf.tensor4d(first!.images, first!.shape as never), { training: false })),
    );
    const k = s.supernet.numClasses;
    let expected = 0;
    for (let i = 0; i < first!.labels.length; i++) {
      const row = Array.from(logits.subarray(i * k, (i + 1) * k), Number);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      expected += (lse - row[first!.labels[i]]) / first!.labels.length;
    }
    const losses: number[] = [];
    const spy: Callback = { name: 'spy', onBatchEnd: (_c, info) => void losses.push(info.terms.tiny) };
    const before = snapshot(s);
    await trainer(s, { batchNorm: 'keep', callbacks: [spy] }).fit({ epochs: 2 });
    expect(losses[0]).toBeCloseTo(expected, 5);
    const after = snapshot(s);
    for (const name of ['bn1/mean', 'bn1/variance', 'bn2/mean', 'bn2/variance'])
      expect(same(before.get(name)!, after.get(name)!)).toBe(true);
    expect(same(before.get('bn1/gamma')!, after.get('bn1/gamma')!)).toBe(false);
  });

  it("batchNorm 'reestimate': statistics re-estimated once on the training images before the first step, then kept", async () => {
    const s = setup({ train: 32, batchSize: 16 });
    const ref = setup({ train: 32, batchSize: 16 }); // same seeds: same weights and data
    await reestimateBatchNorm(ref.supernet, ref.trainLoader, { images: 32 });
    const expected = snapshot(ref);
    await trainer(s, { batchNorm: 'reestimate', bnReestimation: { images: 32 } }).fit({ epochs: 2 });
    const after = snapshot(s);
    for (const name of ['bn1/mean', 'bn1/variance', 'bn2/mean', 'bn2/variance']) {
      expect(same(expected.get(name)!, after.get(name)!)).toBe(true);
      expect(same(after.get(name)!, new Float32Array(after.get(name)!.length).fill(name.endsWith('mean') ? 0 : 1))).toBe(false);
    }
  });

  it('frozen layers with channel sorting on are refused (sorting would permute them)', () => {
    const s = setup();
    expect(() => trainer(s, { freezeUntil: 1, sortChannels: 'weights-only' })).toThrow(
      /sorting permutes the channels of every layer/,
    );
  });

  it("NetAug with batchNorm 'keep' is refused (its augmented models train their batch norm)", () => {
    const s = setup();
    expect(() => trainer(s, { batchNorm: 'keep', strategies: [netaug({ epochs: 1 })] })).toThrow(
      /plain fine-tuning: NetAug/,
    );
  });

  it('numTensors is unchanged across a fine-tuning epoch (frozen units, kept batch norm) and an evaluation', async () => {
    const s = setup({ train: 32 });
    const t = trainer(s, { freezeUntil: 3, batchNorm: 'keep' });
    await t.fit({ epochs: 1 });
    const n = tf.memory().numTensors;
    await t.trainEpoch(1);
    await t.evaluateTiny();
    expect(tf.memory().numTensors).toBe(n);
  });
});
