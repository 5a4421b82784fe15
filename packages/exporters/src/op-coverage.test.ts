/**
 * Every IR op in every export format, and the less common paths of every exporter, on one small IR: VALID padding
 * with bias, standalone sigmoid / relu / relu6 / hsigmoid (not after a conv), batch norms that cannot be folded
 * (after an add, after pooling, rank 1), a same-shape mul, stride-2 VALID depthwise, a concat of three feature
 * maps (one of them a sigmoid, whose int8 scale is fixed: requantized), nearest ×(3, 2) and bilinear ×(2, 3)
 * upsampling, a max pool, a concat of vectors, a dense without bias and an activation as the graph output.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { IRBuilder, randomImages, stack, unstack } from './test-utils';
import { EXPORT_FORMATS, SUPPORTED_OPS } from './support';
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

jest.setTimeout(120_000);

function coverageNet() {
  const b = new IRBuilder('coverage', [12, 10, 2], 5);
  const a = b.act(b.conv('input', 6, [3, 2], 1, { bias: true, padding: 'valid' }), 'sigmoid');
  const c = b.conv('input', 6, [3, 2], 1, { padding: 'valid' });
  let x = b.act(b.add(a, c), 'relu');
  x = b.bn(x); // after an add: not foldable
  x = b.act(x, 'relu6');
  x = b.dw(x, 3, 2, { bias: true, padding: 'valid' });
  x = b.act(x, 'hsigmoid');
  const m = b.mul(x, x); // [4, 4, 6]
  const cat = b.concat(m, b.act(x, 'sigmoid'), x); // [4, 4, 18]
  const near = b.upsample(cat, 'nearest', [3, 2]); // [12, 8, 18]
  const bil = b.upsample(x, 'bilinear', [2, 3]); // [8, 12, 6]
  const pooled = b.maxPool(near, 3, 2); // [6, 4, 18]
  let v = b.concat(b.gap(pooled, false), b.gap(bil, false)); // [24]
  v = b.bn(v); // rank 1, after pooling
  v = b.dense(v, 5, false);
  return b.build(b.act(v, 'sigmoid'));
}

describe('op coverage', () => {
  const ir = coverageNet();
  const imgs = randomImages([12, 10, 2], 20, 4);
  const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);

  it('uses every IR op (both upsample modes), and every format exports every op', () => {
    const ops = new Set(ir.nodes.map((n) => n.op));
    for (const f of EXPORT_FORMATS) expect(ops).toEqual(SUPPORTED_OPS[f].ops);
    const modes = ir.nodes.flatMap((n) => (n.op === 'upsample' ? [n.mode] : []));
    expect(modes.sort()).toEqual(['bilinear', 'nearest']);
  });

  it('ONNX (BN folded and kept)', async () => {
    for (const foldBN of [true, false]) {
      const { comparison } = await verifyOnnx(buildOnnx(ir, { foldBN, opset: 14 }), imgs, { expected });
      expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
    }
  });

  it('tfjs', async () => {
    await tf.setBackend('cpu');
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'netaug-cov-')), 'm');
    await exportTfjs(ir, out);
    const { comparison } = await verifyTfjs(out, imgs, { expected });
    rmSync(path.dirname(out), { recursive: true, force: true });
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
  });

  it('TFLite float32 and int8 in LiteRT.js', async () => {
    const f = await verifyTflite(buildTflite(ir), imgs, { expected });
    expect(f.comparison!.maxAbsDiff).toBeLessThan(1e-5);
    const calibration = randomImages([12, 10, 2], 16, 8);
    const q = buildTflite(ir, { quantize: { calibration } });
    const ops = readTfliteModel(q).operators.map((o) => o.op);
    expect(ops).toEqual(
      expect.arrayContaining([
        'LOGISTIC',
        'RELU',
        'RELU6',
        'MUL',
        'ADD',
        'MEAN',
        'FULLY_CONNECTED',
        'CONCATENATION',
        'RESIZE_NEAREST_NEIGHBOR',
        'RESIZE_BILINEAR',
        'MAX_POOL_2D',
      ]),
    );
    const r = await verifyTflite(q, imgs, { expected });
    const sim = unstack(simulateInt8(ir, stack(imgs), imgs.length, calibration), imgs.length);
    const vsSim = compareOutputs(r.outputs, sim);
    console.log('coverage int8: vs float', r.comparison, 'vs simulated int8', vsSim);
    // diagnostics: probed IR nodes become extra float outputs
    const mul = ir.nodes.find((n) => n.op === 'mul')!.name;
    const probed = await verifyTflite(
      buildTflite(ir, { quantize: { calibration }, probe: [mul] }),
      imgs.slice(0, 2),
    );
    expect(probed.allOutputs![0]).toHaveLength(2);
    expect(probed.allOutputs![0][1].length).toBe(4 * 4 * 6); // 10×9 → stride-2 VALID 3×3 depthwise → 4×4
    // sigmoid output: int8 step 1/256
    expect(vsSim.maxAbsDiff).toBeLessThan(0.05);
    expect(r.comparison!.maxAbsDiff).toBeLessThan(0.1);
  });
});
