import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { createSupernet, MBBlock, type MobileNetSupernet } from './index';
import { l1NormsAlong, permuteAlong } from './sort-channels';
import { maxAbsDiff, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Puts non-trivial values into every BN (gamma, beta, running stats) so a wrong permutation shows. */
function scrambleBatchNorms(net: MobileNetSupernet, seed: number): void {
  const rng = new Rng(seed);
  for (const v of net.variables()) {
    const kind = v.name.split('.').pop();
    if (!v.name.includes('.bn.') && !v.name.endsWith('se.expand.bias')) continue;
    const n = v.variable.size;
    const vals = Float32Array.from({ length: n }, () =>
      kind === 'runningVar'
        ? rng.uniform(0.5, 2)
        : kind === 'gamma'
          ? rng.uniform(0.5, 1.5)
          : rng.uniform(-0.5, 0.5),
    );
    tf.tidy(() => v.variable.assign(tf.tensor(vals, v.variable.shape)));
  }
}

describe.each([
  ['mobilenetv2-tiny', [8, 8, 1]],
  ['mobilenetv3', [8, 8, 3]],
] as [string, [number, number, number]][])('sortChannels on %s', (name, shape) => {
  it('keeps the function at max (≤ 1e-5) and sorts expanded channels by L1 importance', () => {
    const net = createSupernet(name, { numClasses: 10, inputShape: shape, smallInput: true, seed: 2 });
    scrambleBatchNorms(net, 4);
    const x = seededTensor([2, ...shape], 5);
    net.setActive('max');
    const before = net.forward(x, { training: false });
    const atMinBefore = (net.setActive('min'), net.forward(x, { training: false }));
    net.setActive('max');

    const perms = net.sortChannels();
    const after = net.forward(x, { training: false });
    expect(maxAbsDiff(before, after)).toBeLessThanOrEqual(1e-5);
    // the tiny model did change (channels moved into / out of its slice)
    net.setActive('min');
    const atMinAfter = net.forward(x, { training: false });
    expect(maxAbsDiff(atMinBefore, atMinAfter)).toBeGreaterThan(1e-4);

    const mbs = net.blocks.filter((b): b is MBBlock => b instanceof MBBlock);
    for (const b of mbs) {
      const imp = l1NormsAlong(b.project.conv.weight.variable, 2);
      for (let i = 1; i < imp.length; i++) expect(imp[i]).toBeLessThanOrEqual(imp[i - 1]);
    }
    // every touched variable is reported with its axis
    const names = new Set(perms.map((p) => p.variable));
    expect(names.has('blocks.1.expand.conv.weight')).toBe(true);
    expect(names.has('blocks.1.expand.bn.runningVar')).toBe(true);
    expect(names.has('blocks.1.depthwise.conv.weight')).toBe(true);
    expect(names.has('blocks.1.project.conv.weight')).toBe(true);
    if (name === 'mobilenetv3') {
      expect(perms.find((p) => p.variable === 'blocks.4.se.reduce.weight')?.axis).toBe(2);
      expect(perms.find((p) => p.variable === 'blocks.4.se.expand.bias')?.axis).toBe(0);
    }
    expect(perms.find((p) => p.variable === 'blocks.1.project.conv.weight')?.axis).toBe(2);
    // a second sort is a no-op
    expect(net.sortChannels()).toEqual([]);
    tf.dispose([x, before, after, atMinBefore, atMinAfter]);
    net.dispose();
  });
});

describe('permutation helpers', () => {
  it('permuteAlong matches tf.gather and l1NormsAlong matches tf', () => {
    const t = seededTensor([2, 3, 4, 5], 1);
    const perm = Int32Array.from([2, 0, 3, 1]);
    const ref = tf.gather(t, tf.tensor1d(perm, 'int32'), 2);
    const got = permuteAlong(t, 2, perm);
    expect(Array.from(got.dataSync())).toEqual(Array.from(ref.dataSync()));
    const l1 = tf.sum(tf.abs(t), [0, 1, 3]).dataSync();
    Array.from(l1NormsAlong(t, 2)).forEach((v, i) => expect(v).toBeCloseTo(l1[i], 4));
    tf.dispose([t, ref, got]);
  });
});
