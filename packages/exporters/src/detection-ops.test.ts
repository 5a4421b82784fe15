/**
 * The detection ops (`concat`, `upsample` nearest / bilinear) and several outputs, end to end: a small FPN-lite IR
 * (conv stride 2 → conv stride 2 → 1×1 laterals → nearest ×2 of the coarse level + add, plus a concat branch,
 * bilinear branches at ×2 and ×3 and a nearest ×(3, 2) of the input itself) exported to tfjs, ONNX, TFLite float32
 * and TFLite int8, each run in its runtime and compared output by output with the reference executor.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import {
  decodeModelIR,
  encodeModelIR,
  inferShapes,
  validateModelIR,
  type ModelIR,
  type Shape3,
} from '@netaug/core';
import { buildTfModel } from '@netaug/supernet';
import { IRBuilder, fitBatchNormStats, perExample, randomImages, stack } from './test-utils';
import { runModelIROutputs } from './reference/run-model-ir';
import { buildOnnx } from './onnx/export';
import { onnx } from './onnx/proto';
import { exportTfjs } from './tfjs/export';
import { bilinearFilter, buildTfjsArtifacts } from './tfjs/topology';
import { buildTflite } from './tflite/export';
import { planInt8 } from './tflite/plan';
import { readTfliteModel } from './tflite/schema-reader';
import { simulateInt8Outputs } from './tflite/simulate';
import { compareAllOutputs } from './verify/compare';
import { verifyOnnx } from './verify/onnx';
import { verifyTfjs } from './verify/tfjs';
import { verifyTflite } from './verify/tflite';

jest.setTimeout(180_000);

const SHAPE: Shape3 = [16, 16, 3];
const OUTPUTS = ['p3', 'p4', 'cat', 'bil2', 'bil3', 'nearIn'];

/** FPN-lite with a concat branch and bilinear branches; outputs named by role. */
function fpnLite(calibration: Float32Array[]): ModelIR {
  const b = new IRBuilder('fpn-lite', SHAPE, 5);
  const c3 = b.convBnAct('input', 8, 3, 2, 'relu'); // [8, 8, 8]
  const c4 = b.convBnAct(c3, 16, 3, 2, 'relu'); // [4, 4, 16]
  const l3 = b.conv(c3, 8, 1, 1, { bias: true }); // lateral, [8, 8, 8]
  const p4 = b.conv(c4, 8, 1, 1, { bias: true }); // lateral of the coarse level = P4, [4, 4, 8]
  const p3 = b.add(l3, b.upsample(p4, 'nearest', [2, 2])); // P3 = lateral + nearest ×2 of P4
  const cat = b.conv(b.concat(p3, c3, b.act(l3, 'sigmoid')), 6, 3, 1, { bias: true }); // [8, 8, 6]
  const bil2 = b.upsample(b.act(p4, 'relu6'), 'bilinear', [2, 2]); // [8, 8, 8]
  const bil3 = b.conv(b.upsample(c4, 'bilinear', [3, 3]), 4, 1, 1, { bias: true }); // [12, 12, 4]
  const nearIn = b.upsample('input', 'nearest', [3, 2]); // [48, 32, 3]: the input's own values, copied
  const names = [p3, p4, cat, bil2, bil3, nearIn];
  const rename = new Map(names.map((n, i) => [n, OUTPUTS[i]] as const));
  const r = (n: string) => rename.get(n) ?? n;
  const ir = b.buildOutputs(names, 2);
  const named: ModelIR = {
    ...ir,
    nodes: ir.nodes.map((n) => ({ ...n, name: r(n.name), inputs: n.inputs.map(r) })),
    output: r(ir.output),
    outputs: ir.outputs!.map(r),
  };
  return fitBatchNormStats(validateModelIR(named), calibration);
}

const calibration = randomImages(SHAPE, 24, 11);
const ir = fpnLite(calibration);
const imgs = randomImages(SHAPE, 8, 99);
const expected = perExample(runModelIROutputs(ir, stack(imgs), imgs.length), imgs.length);
const shapes = inferShapes(ir);
const dir = mkdtempSync(path.join(tmpdir(), 'netaug-det-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per output: max |runtime − reference|. */
const report = (label: string, perOutput: { maxAbsDiff: number }[]) => {
  const row = Object.fromEntries(OUTPUTS.map((o, k) => [o, perOutput[k].maxAbsDiff]));
  console.log(`${label}: max |Δ| per output`, row);
  return row;
};

describe('FPN-lite with concat / upsample / several outputs', () => {
  it('has the expected shapes and round-trips through .nair', () => {
    expect(OUTPUTS.map((o) => shapes.get(o))).toEqual([
      [8, 8, 8],
      [4, 4, 8],
      [8, 8, 6],
      [8, 8, 8],
      [12, 12, 4],
      [48, 32, 3],
    ]);
    const back = decodeModelIR(encodeModelIR(ir));
    expect(back).toEqual(ir);
    const again = perExample(runModelIROutputs(back, stack(imgs), imgs.length), imgs.length);
    expect(compareAllOutputs(again, expected).overall.maxAbsDiff).toBe(0);
    // values are not degenerate
    for (let k = 0; k < OUTPUTS.length; k++) {
      const spread = Math.max(...expected.map((e) => Math.max(...Array.from(e[k]).map(Math.abs))));
      expect(spread).toBeGreaterThan(0.05);
    }
  });

  it('the tfjs executor (buildTfModel) agrees with the reference executor', async () => {
    await tf.setBackend('cpu');
    const model = buildTfModel(ir);
    const x = tf.tensor4d(stack(imgs), [imgs.length, ...SHAPE]);
    const ys = model.predictOutputs(x);
    const got = perExample(
      ys.map((y) => y.dataSync() as Float32Array),
      imgs.length,
    );
    tf.dispose([x, ...ys]);
    model.dispose();
    const { overall, perOutput } = compareAllOutputs(got, expected);
    const row = report('buildTfModel (tfjs cpu)', perOutput);
    expect(overall.maxAbsDiff).toBeLessThan(1e-4);
    expect(row.nearIn).toBe(0);
  });

  it('tfjs LayersModel: every output matches (bilinear composed of layers)', async () => {
    await tf.setBackend('cpu');
    const out = path.join(dir, 'tfjs');
    await exportTfjs(ir, out);
    const artifacts = buildTfjsArtifacts(ir);
    const classes = (
      artifacts.modelTopology as { config: { layers: { class_name: string }[] } }
    ).config.layers.map((l) => l.class_name);
    expect(classes).toEqual(expect.arrayContaining(['Concatenate', 'UpSampling2D', 'Cropping2D']));
    const r = await verifyTfjs(out, imgs, { expectedAll: expected });
    expect(r.allOutputs[0]).toHaveLength(OUTPUTS.length);
    const row = report('tfjs LayersModel (cpu)', r.outputComparisons!);
    expect(r.comparison!.maxAbsDiff).toBeLessThan(1e-4);
    expect(row.nearIn).toBe(0);
  });

  it('ONNX (onnxruntime-node): Concat and Resize, NHWC outputs', async () => {
    for (const opset of [13, 18]) {
      const bytes = buildOnnx(ir, { opset });
      const m = onnx.ModelProto.decode(bytes);
      expect(m.graph!.output!.map((o) => o.name)).toEqual(OUTPUTS);
      expect(
        m.graph!.output![5].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)),
      ).toEqual(['N', 48, 32, 3]);
      const resize = m.graph!.node!.filter((n) => n.opType === 'Resize');
      const attrs = (n: (typeof resize)[0]) =>
        Object.fromEntries(n.attribute!.map((a) => [a.name, new TextDecoder().decode(a.s!)]));
      expect(resize.map(attrs)).toEqual(
        expect.arrayContaining([
          { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
          { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
        ]),
      );
      const r = await verifyOnnx(bytes, imgs, { expectedAll: expected });
      const row = report(`ONNX opset ${opset}`, r.outputComparisons!);
      expect(r.comparison!.maxAbsDiff).toBeLessThan(1e-4);
      expect(row.nearIn).toBe(0);
    }
    // NCHW input layout: feature-map outputs stay NCHW
    const nchw = await verifyOnnx(
      buildOnnx(ir, { inputLayout: 'nchw', outputNames: OUTPUTS.map((o) => `y_${o}`) }),
      imgs.map(toNchw(SHAPE)),
    );
    const toNchwOut = OUTPUTS.map((o) => toNchw(shapes.get(o) as Shape3));
    const want = expected.map((e) => e.map((v, k) => toNchwOut[k](v)));
    expect(compareAllOutputs(nchw.allOutputs, want).overall.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('TFLite float32 (LiteRT.js): CONCATENATION, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR half-pixel', async () => {
    const bytes = buildTflite(ir);
    const model = readTfliteModel(bytes);
    expect(model.outputs.map((t) => model.tensors[t].name)).toEqual(OUTPUTS);
    const versions = Object.fromEntries(model.operatorCodes.map((c) => [c.op, c.version]));
    expect(versions).toMatchObject({ CONCATENATION: 1, RESIZE_NEAREST_NEIGHBOR: 1, RESIZE_BILINEAR: 3 });
    const opts = (op: string) => model.operators.filter((o) => o.op === op).map((o) => o.options);
    expect(opts('RESIZE_BILINEAR')).toEqual([
      { alignCorners: false, halfPixelCenters: true },
      { alignCorners: false, halfPixelCenters: true },
    ]);
    expect(opts('RESIZE_NEAREST_NEIGHBOR')[0]).toEqual({ alignCorners: false, halfPixelCenters: false });
    expect(opts('CONCATENATION')).toEqual([{ axis: 3, fusedActivation: 0 }]);
    const r = await verifyTflite(bytes, imgs, { expectedAll: expected });
    const row = report('TFLite float32 (LiteRT.js)', r.outputComparisons!);
    expect(r.comparison!.maxAbsDiff).toBeLessThan(1e-4);
    expect(row.nearIn).toBe(0);
  });

  it('TFLite int8 (LiteRT.js): within a few quantization steps of the simulated int8 model', async () => {
    const plan = planInt8(ir, calibration);
    const bytes = buildTflite(ir, { quantize: { calibration, plan } });
    const model = readTfliteModel(bytes);
    const versions = Object.fromEntries(model.operatorCodes.map((c) => [c.op, c.version]));
    expect(versions).toMatchObject({ CONCATENATION: 2, RESIZE_NEAREST_NEIGHBOR: 2, RESIZE_BILINEAR: 3 });
    const quantOf = (name: string) => model.tensors.find((t) => t.name === name)!.quantization!;
    // every CONCATENATION input has the output's scale and zero point (requantized where calibration differs)
    for (const op of model.operators.filter((o) => o.op === 'CONCATENATION')) {
      const q = model.tensors[op.outputs[0]].quantization!;
      for (const i of op.inputs) expect(model.tensors[i].quantization).toEqual(q);
    }
    expect(model.operators.filter((o) => o.op === 'QUANTIZE').length).toBeGreaterThan(1);
    // the resize ops keep their input's quantization
    for (const op of model.operators.filter((o) => o.op.startsWith('RESIZE'))) {
      expect(model.tensors[op.outputs[0]].quantization).toEqual(model.tensors[op.inputs[0]].quantization);
    }
    const r = await verifyTflite(bytes, imgs, { expectedAll: expected });
    const sim = perExample(simulateInt8Outputs(ir, stack(imgs), imgs.length, plan), imgs.length);
    const vsSim = compareAllOutputs(r.allOutputs, sim);
    const steps = OUTPUTS.map((o) => quantOf(`${o}/int8`).scale[0]);
    const rowSim = report('TFLite int8 vs simulated int8', vsSim.perOutput);
    const rowFloat = report('TFLite int8 vs float reference', r.outputComparisons!);
    console.log(
      'int8 output steps',
      Object.fromEntries(OUTPUTS.map((o, k) => [o, steps[k]])),
      'vs simulated, in steps',
      Object.fromEntries(OUTPUTS.map((o, k) => [o, rowSim[o] / steps[k]])),
      'vs float, in steps',
      Object.fromEntries(OUTPUTS.map((o, k) => [o, rowFloat[o] / steps[k]])),
    );
    // The simulation uses the exported scales and rounds every materialised tensor as the kernels do; what is
    // left is integer-kernel rounding (fixed-point multipliers, int8 bilinear weights in 1/1024, a tie rounded the
    // other way), at most one step of a tensor per op, propagated through at most three ops to an output.
    OUTPUTS.forEach((o, k) => expect(rowSim[o]).toBeLessThanOrEqual(3 * steps[k] + 1e-6));
    // The nearest ×(3, 2) of the input is the quantized input, copied: within half an input step of the float
    // values (a value exactly between two steps may round either way: + 1e-6).
    expect(rowFloat.nearIn).toBeLessThanOrEqual(steps[5] / 2 + 1e-6);
    // Against the float model the rounding of every tensor on the way adds up (measured 2.5–3.8 output steps
    // here); a sanity bound, not a derived one:
    OUTPUTS.forEach((o, k) => expect(rowFloat[o]).toBeLessThanOrEqual(6 * steps[k]));
  });
});

it('bilinearFilter: nearest ×s then this filter reproduces half-pixel bilinear (s = 1 … 6)', () => {
  for (let s = 1; s <= 6; s++) {
    const h = bilinearFilter(s);
    expect(h.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
    expect(h).toHaveLength(2 * Math.floor(s / 2) + 1);
    // 1-D check on a random signal, edges replicated
    const x = Array.from({ length: 5 }, (_, i) => Math.sin(3 * i + s));
    const at = (j: number) => x[Math.min(Math.max(j, 0), x.length - 1)];
    const a = Math.floor(s / 2);
    for (let m = 0; m < x.length * s; m++) {
      let v = 0;
      for (let t = -a; t <= a; t++) v += h[t + a] * at(Math.floor((m - t) / s));
      const src = Math.max(0, (m + 0.5) / s - 0.5);
      const f = Math.floor(src);
      const want = at(f) + (at(f + 1) - at(f)) * (src - f);
      expect(Math.abs(v - want)).toBeLessThan(1e-12);
    }
  }
});

/** NHWC `[h, w, c]` example → NCHW `[c, h, w]`. */
function toNchw([h, w, c]: Shape3) {
  return (x: ArrayLike<number>): Float32Array => {
    const out = new Float32Array(h * w * c);
    for (let y = 0; y < h; y++)
      for (let i = 0; i < w; i++)
        for (let k = 0; k < c; k++) out[(k * h + y) * w + i] = x[(y * w + i) * c + k];
    return out;
  };
}
