/**
 * Zoo models from @netaug/supernet (not hand-built IRs): the ONNX and TFLite float exports of the extracted tiny
 * model must match the tfjs model built from the same IR on 100 real Fashion-MNIST images.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@netaug/backend';
import type { Shape3 } from '@netaug/core';
import { createSupernet, buildTfModel } from '@netaug/supernet';
import {
  loadBuiltin,
  EMBEDDED_FASHION_MNIST_DIR,
  resize,
  toRGB,
  compose,
  normalize,
  deriveRng,
} from '@netaug/data';
import { exportModel } from './export-model';
import { verifyOnnx } from './verify/onnx';
import { verifyTflite } from './verify/tflite';

jest.setTimeout(300000);

const cases: { name: string; model: string; inputShape: Shape3; smallInput: boolean }[] = [
  {
    name: 'mobilenetv2-tiny small-input 28×28×1',
    model: 'mobilenetv2-tiny',
    inputShape: [28, 28, 1],
    smallInput: true,
  },
  {
    name: 'mobilenetv2-tiny ImageNet form 64×64×3',
    model: 'mobilenetv2-tiny',
    inputShape: [64, 64, 3],
    smallInput: false,
  },
  { name: 'mcunet 64×64×3', model: 'mcunet', inputShape: [64, 64, 3], smallInput: false },
];

async function realImages(shape: Shape3, n: number): Promise<Float32Array[]> {
  const ds = await loadBuiltin('fashion-mnist', { split: 'test', dataDir: EMBEDDED_FASHION_MNIST_DIR });
  const steps = [];
  if (shape[2] === 3) steps.push(toRGB());
  if (shape[0] !== 28) steps.push(resize([shape[0], shape[1]]));
  steps.push(normalize(Array(shape[2]).fill(0.286), Array(shape[2]).fill(0.353)));
  const t = compose(steps);
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = await ds.get(i * 17);
    out.push(t.apply({ data: s.image, height: 28, width: 28, channels: 1 }, deriveRng(0, i)).data);
  }
  return out;
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe.each(cases)('$name', ({ model, inputShape, smallInput }) => {
  it('ONNX and TFLite float match the tfjs model within 1e-4 on 100 real images', async () => {
    const net = createSupernet(model, { numClasses: 10, inputShape, smallInput, seed: 5 });
    const images = await realImages(inputShape, 100);
    // give batch norm non-trivial running statistics: a few training-mode passes of the tiny model on real data
    net.setActive('min');
    const batch = tf.tensor4d(
      images
        .slice(0, 32)
        .reduce((acc, x, i) => (acc.set(x, i * x.length), acc), new Float32Array(32 * images[0].length)),
      [32, ...inputShape],
    );
    for (let k = 0; k < 3; k++) tf.tidy(() => void net.forward(batch, { training: true }));
    batch.dispose();
    const ir = net.extract();
    net.dispose();
    const tfModel = buildTfModel(ir);
    const all = new Float32Array(images.length * images[0].length);
    images.forEach((x, i) => all.set(x, i * x.length));
    const logits = tf.tidy(
      () => tfModel.predict(tf.tensor4d(all, [images.length, ...inputShape])).dataSync() as Float32Array,
    );
    const expected = images.map((_, i) => logits.slice(i * 10, (i + 1) * 10));
    tfModel.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'netaug-zoo-'));
    const onnx = await exportModel(ir, { format: 'onnx', out: join(dir, 'm.onnx') });
    const tfl = await exportModel(ir, { format: 'tflite', out: join(dir, 'm.tflite') });
    const ro = await verifyOnnx(onnx.files[0], images, { expected });
    const rt = await verifyTflite(tfl.files[0], images, { expected });
    expect(ro.comparison!.maxAbsDiff).toBeLessThan(1e-4);
    expect(rt.comparison!.maxAbsDiff).toBeLessThan(1e-4);
    expect(ro.outputs).toHaveLength(100);
    expect(rt.outputs).toHaveLength(100);
  });
});
