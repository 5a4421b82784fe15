/**
 * Full-integer int8 TFLite export. Random-weight networks are far more fragile under int8 than trained ones
 * (their pooled features hardly vary between inputs), so the checks are: (1) LiteRT.js runs the int8 file and
 * agrees with a JS simulation of exactly the exported quantization (correctness of the file), (2) top-1
 * agreement with the float model on a BN-fitted network with a prototype head (realistic conditioning), and
 * (3) size and per-channel layout on a weight-heavy network.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { Shape3 } from '@netaug/core';
import {
  argmax,
  fitBatchNormStats,
  mobilenetLike,
  prototypeClassifier,
  randomImages,
  stack,
  unstack,
} from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { compareOutputs } from '../verify/compare';
import { verifyTflite } from '../verify/tflite';
import { buildTflite, exportTflite } from './export';
import { foldBatchNorm } from '@netaug/core';
import { planInt8 } from './plan';
import { activationQuantParams, calibrate } from './quantize';
import { readTfliteModel } from './schema-reader';
import { simulateInt8 } from './simulate';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-int8-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A realistic test net: BN statistics fitted to the data and a prototype classifier head. */
function testNet(shape: Shape3, width: number, calibration: Float32Array[]) {
  return prototypeClassifier(fitBatchNormStats(mobilenetLike(shape, { width }), calibration), calibration);
}

describe.each([[[28, 28, 1] as Shape3], [[32, 32, 3] as Shape3]])('TFLite int8, input %j', (shape) => {
  it('runs in LiteRT.js and matches the JS simulation of the exported quantization', async () => {
    const calibration = randomImages(shape, 32, 11);
    const ir = testNet(shape, 1, calibration);
    const imgs = randomImages(shape, 24, 99);
    const plan = planInt8(ir, calibration);
    const sim = unstack(simulateInt8(ir, stack(imgs), imgs.length, plan), imgs.length);
    const file = path.join(dir, `${ir.name}.tflite`);
    await exportTflite(ir, file, { quantize: { calibration } });
    const { outputs } = await verifyTflite(file, imgs);
    const c = compareOutputs(outputs, sim);
    console.log(`int8 ${ir.name}: LiteRT vs simulated int8`, c);
    expect(c.top1Agreement).toBeGreaterThanOrEqual(0.9);
    expect(c.maxAbsDiff).toBeLessThan(1.5); // logits spread ±3; a few output quantization steps
  });
});

it('agrees with the float model on top-1 for ≥ 90% of 50 random-ish inputs', async () => {
  const shape: Shape3 = [28, 28, 1];
  const calibration = randomImages(shape, 32, 11);
  const ir = testNet(shape, 2, calibration);
  const imgs = randomImages(shape, 50, 99);
  const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);
  const { comparison } = await verifyTflite(buildTflite(ir, { quantize: { calibration } }), imgs, {
    expected,
  });
  const classes = new Set(expected.map(argmax)).size;
  console.log(`int8 ${ir.name} vs float: ${classes} classes predicted`, comparison);
  expect(classes).toBeGreaterThanOrEqual(5); // not trivially one class
  expect(comparison!.top1Agreement).toBeGreaterThanOrEqual(0.9);
});

it('is ≤ 30% of the float file with per-channel int8 conv weights (forced) and int32 biases', async () => {
  const shape: Shape3 = [32, 32, 3];
  const ir = mobilenetLike(shape, { width: 4, deep: true });
  const calibration = randomImages(shape, 4, 11);
  const { bytes: fBytes } = await exportTflite(ir, path.join(dir, 'big-f.tflite'));
  const file = path.join(dir, 'big-q.tflite');
  const { bytes: qBytes } = await exportTflite(ir, file, {
    quantize: { calibration, weightGranularity: 'per-channel' },
  });
  console.log(`int8 size: float ${fBytes} B, int8 ${qBytes} B, ratio ${(qBytes / fBytes).toFixed(3)}`);
  expect(qBytes / fBytes).toBeLessThanOrEqual(0.3);
  const model = readTfliteModel(new Uint8Array(readFileSync(file)));
  const convs = model.operators.filter((o) => o.op === 'CONV_2D' || o.op === 'DEPTHWISE_CONV_2D');
  expect(convs.length).toBeGreaterThan(10);
  for (const op of convs) {
    const w = model.tensors[op.inputs[1]];
    const dim = op.op === 'CONV_2D' ? 0 : 3;
    expect(w.type).toBe('INT8');
    expect(w.quantization!.quantizedDimension).toBe(dim);
    expect(w.quantization!.scale.length).toBe(w.shape[dim]);
    expect(w.quantization!.zeroPoint.every((z) => z === 0)).toBe(true);
    const b = model.tensors[op.inputs[2]];
    expect(b.type).toBe('INT32');
    expect(b.quantization!.scale.length).toBe(w.shape[dim]);
    // bias scale = input scale × weight scale, per channel
    const inScale = model.tensors[op.inputs[0]].quantization!.scale[0];
    b.quantization!.scale.forEach((s, c) => expect(s).toBeCloseTo(inScale * w.quantization!.scale[c], 10));
  }
  const ops = new Set(model.operators.map((o) => o.op));
  for (const op of ['QUANTIZE', 'DEQUANTIZE', 'HARD_SWISH', 'MEAN', 'MUL', 'ADD', 'FULLY_CONNECTED'])
    expect(ops).toContain(op);
  expect(model.tensors[model.inputs[0]].type).toBe('FLOAT32');
  expect(model.tensors[model.outputs[0]].type).toBe('FLOAT32');
});

it('calibrates the BN-folded graph: a folded conv output gets the range after its batch norm', () => {
  const shape: Shape3 = [28, 28, 1];
  const calibration = randomImages(shape, 16, 11);
  const ir = fitBatchNormStats(mobilenetLike(shape, { width: 1 }), calibration);
  // the float range of every batch norm's output, from the unfolded IR
  const bnRange = new Map<string, [number, number]>();
  runModelIR(ir, stack(calibration), calibration.length, {
    onNode: (n, out) => {
      if (n.op !== 'batchNorm') return;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of out) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      bnRange.set(n.inputs[0], [lo, hi]);
    },
  });
  const model = readTfliteModel(buildTflite(ir, { quantize: { calibration } }));
  const folded = new Set(foldBatchNorm(ir).nodes.map((n) => n.name));
  let checked = 0;
  for (const t of model.tensors) {
    const r = bnRange.get(t.name); // tensor named after a conv whose batch norm was folded into it (no fused act)
    if (!r || !folded.has(t.name)) continue;
    expect(t.quantization!.scale[0]).toBeCloseTo(activationQuantParams(...r).scale, 6);
    checked++;
  }
  expect(checked).toBeGreaterThan(2);
  expect(calibrate(ir, calibration).get(ir.nodes.find((n) => n.op === 'batchNorm')!.name)).toBeUndefined();
});
