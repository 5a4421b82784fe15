/** `createSupernet(..., { tinyOnly: true })` trains exactly like the full supernet at `min`. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createSupernet, type MobileNetSupernet } from './index';
import { copyLeadingBlock } from './layers/slice-first';
import { registerGradients, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

/** Training-mode gradients of a fixed linear function of the logits at `min`, by variable name. */
function gradsAtMin(net: MobileNetSupernet, x: tf.Tensor, w: tf.Tensor): Map<string, tf.Tensor> {
  net.setActive('min');
  const named = net.variables().filter((v) => v.trainable);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(net.forward(x, { training: true }), w)) as tf.Scalar,
    named.map((v) => v.variable),
  );
  return new Map(named.map((v) => [v.name, grads[v.variable.name]]));
}

test.each(['mobilenetv2-tiny', 'mobilenetv3'])(
  '%s: gradients are the leading blocks of the full supernet’s, and two SGD steps keep the logits equal',
  (model) => {
    const opts = {
      numClasses: 5,
      inputShape: [8, 8, 3] as [number, number, number],
      smallInput: true,
      seed: 7,
    };
    const full = createSupernet(model, opts);
    const tiny = createSupernet(model, { ...opts, tinyOnly: true });
    const x = seededTensor([3, 8, 8, 3], 1);
    const w = seededTensor([3, 5], 2);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 2; step++) {
      tf.tidy(() => {
        const gf = gradsAtMin(full, x, w);
        const gt = gradsAtMin(tiny, x, w);
        expect([...gt.keys()]).toEqual([...gf.keys()]);
        let nonzero = 0;
        for (const [name, g] of gt) {
          const f = gf.get(name)!;
          const lead = copyLeadingBlock(f.dataSync() as Float32Array, f.shape, g.shape);
          const got = g.dataSync();
          let bad = 0;
          for (let i = 0; i < got.length; i++) {
            if (Math.abs(got[i] - lead[i]) > 1e-6 * (1 + Math.abs(lead[i]))) bad++;
            if (got[i] !== 0) nonzero++;
          }
          expect({ name, bad }).toEqual({ name, bad: 0 });
        }
        expect(nonzero).toBeGreaterThan(1000);
        // one plain SGD update of every trainable variable on both nets
        for (const [net, grads] of [
          [full, gf],
          [tiny, gt],
        ] as const) {
          for (const v of net.variables().filter((u) => u.trainable))
            v.variable.assign(tf.sub(v.variable, tf.mul(grads.get(v.name)!, 0.01)));
        }
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    full.setActive('min');
    const a = full.forward(x);
    const b = tiny.forward(x);
    const da = a.dataSync();
    const db = b.dataSync();
    let worst = 0;
    for (let i = 0; i < da.length; i++) worst = Math.max(worst, Math.abs(da[i] - db[i]));
    expect(worst).toBeLessThan(1e-5);
    // ...and the running statistics of batch norm moved identically
    const stats = (net: MobileNetSupernet) =>
      new Map(
        net
          .variables()
          .filter((v) => !v.trainable)
          .map((v) => [v.name, v.variable]),
      );
    const sf = stats(full);
    for (const [name, v] of stats(tiny)) {
      const lead = copyLeadingBlock(sf.get(name)!.dataSync() as Float32Array, sf.get(name)!.shape, v.shape);
      const got = v.dataSync();
      const bad = got.filter((g, i) => !(Math.abs(g - lead[i]) < 1e-6)).length;
      expect({ name, bad }).toEqual({ name, bad: 0 });
    }
    tf.dispose([x, w, a, b]);
    full.dispose();
    tiny.dispose();
  },
);
