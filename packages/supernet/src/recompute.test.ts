/** Gradient checkpointing (`forward(x, { training: true, recompute: true })`) against the plain forward. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createSupernet, type MobileNetSupernet } from './index';
import { maxAbsDiff, registerGradients, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

interface StepOutcome {
  loss: number;
  grads: Map<string, Float32Array>;
  stats: Map<string, Float32Array>;
  peakBytes: number;
  newTensors: number;
}

/** One gradient of a cross-entropy-like loss (logits · fixed weights), from a freshly seeded supernet. */
async function step(model: string, config: 'max' | 'min', recompute: boolean): Promise<StepOutcome> {
  const net = createSupernet(model, {
    numClasses: 5,
    inputShape: [8, 8, 3],
    smallInput: true,
    seed: 3,
  }) as MobileNetSupernet;
  try {
    net.setActive(config);
    const x = seededTensor([3, 8, 8, 3], 11) as tf.Tensor4D;
    const w = seededTensor([3, 5], 12);
    const named = net.variables().filter((v) => v.trainable);
    const before = tf.memory().numTensors;
    let loss = 0;
    const grads = new Map<string, Float32Array>();
    const info = await tf.profile(() => {
      tf.tidy(() => {
        const { value, grads: g } = tf.variableGrads(
          () => tf.sum(tf.mul(net.forward(x, { training: true, recompute }), w)) as tf.Scalar,
          named.map((v) => v.variable),
        );
        loss = value.dataSync()[0];
        for (const v of named) grads.set(v.name, g[v.variable.name].dataSync() as Float32Array);
      });
    });
    const newTensors = tf.memory().numTensors - before;
    const stats = new Map(
      net
        .variables()
        .filter((v) => !v.trainable)
        .map((v) => [v.name, v.variable.dataSync() as Float32Array]),
    );
    x.dispose();
    w.dispose();
    return { loss, grads, stats, peakBytes: info.peakBytes, newTensors };
  } finally {
    net.dispose();
  }
}

/** Largest |a − b| over every named array, relative to the array's largest |a|. */
function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()]).toEqual([...b.keys()]);
  let worst = 0;
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    let scale = 1e-6;
    let diff = 0;
    for (let i = 0; i < va.length; i++) {
      scale = Math.max(scale, Math.abs(va[i]));
      diff = Math.max(diff, Math.abs(va[i] - vb[i]));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

describe.each([
  ['mobilenetv2-tiny', 'max'],
  ['mobilenetv3', 'min'], // squeeze-excite blocks and hard-swish
])('%s at %s', (model, config) => {
  test('recompute gives the same loss, gradients and running statistics, and less peak memory', async () => {
    const plain = await step(model, config as 'max' | 'min', false);
    const ckpt = await step(model, config as 'max' | 'min', true);
    expect(ckpt.loss).toBeCloseTo(plain.loss, 5);
    expect(maxRelDiff(plain.grads, ckpt.grads)).toBeLessThan(1e-5);
    // running statistics updated exactly once (a second update in the recompute would move them again)
    expect(maxRelDiff(plain.stats, ckpt.stats)).toBeLessThan(1e-6);
    expect(ckpt.peakBytes).toBeLessThan(plain.peakBytes);
    expect(ckpt.newTensors).toBe(0);
    expect(plain.newTensors).toBe(0);
  });
});

test('without training, recompute is ignored (same logits)', () => {
  const net = createSupernet('mobilenetv2-tiny', {
    numClasses: 5,
    inputShape: [16, 16, 3],
    smallInput: true,
  });
  const x = seededTensor([2, 16, 16, 3], 1);
  const a = net.forward(x, { training: false });
  const b = net.forward(x, { training: false, recompute: true });
  expect(maxAbsDiff(a, b)).toBe(0);
  tf.dispose([a, b, x]);
  net.dispose();
});
