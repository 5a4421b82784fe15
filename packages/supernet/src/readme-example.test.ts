import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@netaug/core';
import { createSupernet, buildTfModel, profile } from './index';
import { maxAbsDiff } from './testing/helpers';

it('the README example runs', async () => {
  await tf.setBackend('cpu');
  const net = createSupernet('mobilenetv2-tiny', {
    numClasses: 10,
    inputShape: [28, 28, 1],
    smallInput: true,
    seed: 0,
  });
  const cfg = net.setActive('random', new Rng(1));
  expect(cfg.width.length).toBe(net.choices.width.length);
  const x = tf.randomUniform([2, 28, 28, 1]);
  const y = net.forward(x, { training: false });
  expect(y.shape).toEqual([2, 10]);
  net.setActive('min');
  const ir = net.extract();
  expect([profile(ir).params, profile(ir).macs]).toEqual([305482, 11342560]);
  const ref = net.forward(x, { training: false });
  const model = buildTfModel(ir);
  const got = model.predict(x as tf.Tensor4D);
  expect(maxAbsDiff(ref, got)).toBeLessThanOrEqual(1e-5);
  tf.dispose([x, y, ref, got]);
  model.dispose();
  net.dispose();
});
