/**
 * The `maxPool` IR op in every exporter, each verified in its runtime: TensorFlow SAME padding with an odd pixel
 * (asymmetric ONNX pads), padded positions that must never win (a pool on negative values), VALID, and a ResNet-18
 * extracted from `@netaug/supernet` (ImageNet stem: conv 7×7/2 + max-pool 3×3/2).
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, type ModelIR, type Shape3 } from '@netaug/core';
import { buildTfModel, createSupernet } from '@netaug/supernet';
import { IRBuilder, fitBatchNormStats, randomImages, stack, unstack } from './test-utils';
import { runModelIR } from './reference/run-model-ir';
import { buildOnnx } from './onnx/export';
import { exportTfjs } from './tfjs/export';
import { buildTflite } from './tflite/export';
import { readTfliteModel } from './tflite/schema-reader';
import { simulateInt8 } from './tflite/simulate';
import { compareOutputs } from './verify/compare';
import { verifyOnnx } from './verify/onnx';
import { verifyTfjs } from './verify/tfjs';
import { verifyTflite } from './verify/tflite';

jest.setTimeout(180_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-maxpool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** conv (no activation: negative values) → max-pool 3×3/2 SAME on 10×9 (pads: rows 0/1, cols 1/1) → … */
function poolNet(): ModelIR {
  const b = new IRBuilder('pool-net', [10, 9, 3], 3);
  let x = b.bn(b.conv('input', 6, 3, 1));
  x = b.maxPool(x, 3, 2, 'same'); // 5×5
  x = b.act(x, 'relu');
  x = b.maxPool(b.conv(x, 8, 3, 1, { bias: true }), 2, 2, 'valid'); // 2×2
  x = b.act(b.bn(x), 'relu6');
  x = b.maxPool(x, 3, 1, 'same'); // 2×2, windows larger than the map
  return b.build(b.dense(b.gap(x, false), 5));
}

describe('maxPool in every exporter', () => {
  const ir = poolNet();
  const shape = ir.inputShape as Shape3;
  const imgs = randomImages(shape, 12, 5);
  const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);

  it('the reference executor and buildTfModel: SAME pads never win (a pool over negative values)', () => {
    const one: ModelIR = {
      schemaVersion: 1,
      name: 'one',
      inputShape: [3, 4, 1],
      numClasses: 4,
      output: 'flat',
      nodes: [
        { op: 'input', name: 'input', inputs: [], shape: [3, 4, 1] },
        { op: 'maxPool', name: 'mp', inputs: ['input'], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
        { op: 'globalAvgPool', name: 'g', inputs: ['mp'], keepDims: false },
        {
          op: 'dense',
          name: 'flat',
          inputs: ['g'],
          weight: { shape: [1, 4], data: Float32Array.of(1, 1, 1, 1) },
        },
      ],
    };
    // 3×4 of negatives; SAME 2×2/2 → 2×2 windows: rows {0,1},{2,(pad)}, cols {0,1},{2,3}
    const x = Float32Array.of(-1, -5, -3, -2, -4, -6, -7, -8, -9, -10, -11, -12);
    const maxes = [-1, -2, -9, -11];
    const mean = maxes.reduce((a, v) => a + v, 0) / 4;
    expect(Array.from(runModelIR(one, x))).toEqual([mean, mean, mean, mean]);
    const tfModel = buildTfModel(one);
    expect(Array.from(tfModel.predict(tf.tensor4d(x, [1, 3, 4, 1])).dataSync())).toEqual([
      mean,
      mean,
      mean,
      mean,
    ]);
    tfModel.dispose();
  });

  it('tfjs LayersModel (MaxPooling2D) and the supernet IR executor', async () => {
    await tf.setBackend('cpu');
    const out = path.join(dir, 'tfjs');
    await exportTfjs(ir, out);
    const { comparison } = await verifyTfjs(out, imgs, { expected });
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
    const m = buildTfModel(ir);
    const got = m.predict(tf.tensor4d(stack(imgs), [imgs.length, ...shape])).dataSync() as Float32Array;
    m.dispose();
    expect(compareOutputs(unstack(got, imgs.length), expected).maxAbsDiff).toBeLessThan(1e-5);
  });

  it('ONNX (MaxPool with explicit pads) in onnxruntime-node, opset 13 and 14, BN folded and kept', async () => {
    for (const [opset, foldBN] of [
      [13, true],
      [14, false],
    ] as const) {
      const { comparison } = await verifyOnnx(buildOnnx(ir, { opset, foldBN }), imgs, { expected });
      expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
    }
  });

  it('TFLite float32 and int8 (MAX_POOL_2D) in LiteRT.js', async () => {
    const f = await verifyTflite(buildTflite(ir), imgs, { expected });
    expect(f.comparison!.maxAbsDiff).toBeLessThan(1e-5);
    const calibration = randomImages(shape, 16, 8);
    const q = buildTflite(ir, { quantize: { calibration } });
    const model = readTfliteModel(q);
    expect(model.operators.filter((o) => o.op === 'MAX_POOL_2D')).toHaveLength(3);
    // MAX_POOL_2D's int8 kernel needs the output quantized like the input
    const pools = model.operators.filter((o) => o.op === 'MAX_POOL_2D');
    for (const p of pools) {
      const [a, b] = [model.tensors[p.inputs[0]], model.tensors[p.outputs[0]]];
      expect(b.quantization).toEqual(a.quantization);
    }
    const r = await verifyTflite(q, imgs, { expected });
    const sim = unstack(simulateInt8(ir, stack(imgs), imgs.length, calibration), imgs.length);
    const vsSim = compareOutputs(r.outputs, sim);
    expect(vsSim.maxAbsDiff).toBeLessThan(0.05);
    expect(r.comparison!.maxAbsDiff).toBeLessThan(0.2);
  });
});

describe('ResNet-18 (ImageNet form) from the zoo', () => {
  it('ONNX, TFLite float32 and tfjs match the IR within 1e-4; int8 matches its simulation', async () => {
    await tf.setBackend('cpu');
    const shape: Shape3 = [32, 32, 3];
    const net = createSupernet('resnet18', { numClasses: 10, inputShape: shape, width: 0.125, seed: 3 });
    net.setActive('random', new Rng(2));
    const imgs = randomImages(shape, 8, 6);
    const ir = fitBatchNormStats(net.extract(), imgs);
    net.dispose();
    expect(ir.nodes.filter((n) => n.op === 'maxPool').map((n) => n.name)).toEqual(['stem.pool']);
    const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);
    const onnx = await verifyOnnx(buildOnnx(ir), imgs, { expected });
    const tfl = await verifyTflite(buildTflite(ir), imgs, { expected });
    const out = path.join(dir, 'resnet18');
    await exportTfjs(ir, out);
    const tfjs = await verifyTfjs(out, imgs, { expected });
    for (const r of [onnx, tfl, tfjs]) expect(r.comparison!.maxAbsDiff).toBeLessThan(1e-4);
    const q = buildTflite(ir, { quantize: { calibration: imgs } });
    const r = await verifyTflite(q, imgs);
    const sim = unstack(simulateInt8(ir, stack(imgs), imgs.length, imgs), imgs.length);
    expect(compareOutputs(r.outputs, sim).maxAbsDiff).toBeLessThan(0.05);
  });
});
