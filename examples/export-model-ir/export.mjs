// Export a ModelIR built by hand — no supernet, no trainer — to TensorFlow.js, ONNX, TFLite float32 and TFLite
// int8 with @netaug/exporters, and verify every file in its own runtime against the pure-TypeScript reference
// executor `runModelIR`.
//
// The network is a MobileNetV2-style block stack on 16×16×3 inputs: conv3×3 s2 → BN → ReLU6, an inverted
// bottleneck with a residual shortcut (1×1 expand → depthwise 3×3 → squeeze-excite → 1×1 project), hard-swish,
// global average pool, dense. Weights are seeded random numbers (a real model would come from
// `supernet.extract()` or from a run folder's `model.nair`, see `decodeModelIR`).
//
//   node examples/export-model-ir/export.mjs [--out runs/examples/export-model-ir]
//
// Runtimes (optional peer dependencies of @netaug/exporters): onnxruntime-node, @litertjs/core,
// @tensorflow/tfjs-layers with a tfjs backend.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@netaug/backend';
import {
  MODEL_IR_SCHEMA_VERSION,
  Rng,
  decodeModelIR,
  encodeModelIR,
  inferShapes,
  profile,
  validateModelIR,
} from '@netaug/core';
import {
  exportModel,
  runModelIR,
  simulateInt8,
  toCHeader,
  verifyOnnx,
  verifyTfjs,
  verifyTflite,
} from '@netaug/exporters';

const rng = new Rng(42);
/** A seeded float32 tensor of the given shape, values U(−bound, bound). */
const tensor = (shape, bound) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-bound, bound)),
});
/** A tensor of `n` values drawn from U(lo, hi). */
const between = (n, lo, hi) => ({
  shape: [n],
  data: Float32Array.from({ length: n }, () => rng.uniform(lo, hi)),
});
/** Batch norm with non-trivial statistics, so that folding it into the convolution is exercised. */
const bn = (name, input, c) => ({
  op: 'batchNorm',
  name,
  inputs: [input],
  epsilon: 1e-5,
  gamma: between(c, 0.7, 1.3),
  beta: between(c, -0.2, 0.2),
  mean: between(c, -0.2, 0.2),
  variance: between(c, 0.5, 1.5),
});

/** @type {import('@netaug/core').ModelIR} */
const ir = {
  schemaVersion: MODEL_IR_SCHEMA_VERSION,
  name: 'hand-built',
  inputShape: [16, 16, 3],
  numClasses: 5,
  output: 'fc',
  nodes: [
    { op: 'input', name: 'image', inputs: [], shape: [16, 16, 3] },
    {
      op: 'conv2d',
      name: 'stem',
      inputs: ['image'],
      strides: [2, 2],
      padding: 'same',
      weight: tensor([3, 3, 3, 8], 0.4),
    },
    bn('stem.bn', 'stem', 8),
    { op: 'activation', name: 'stem.act', inputs: ['stem.bn'], activation: 'relu6' },
    // inverted bottleneck 8 → 24 → 8 with a shortcut
    {
      op: 'conv2d',
      name: 'expand',
      inputs: ['stem.act'],
      strides: [1, 1],
      padding: 'same',
      weight: tensor([1, 1, 8, 24], 0.5),
    },
    bn('expand.bn', 'expand', 24),
    { op: 'activation', name: 'expand.act', inputs: ['expand.bn'], activation: 'hswish' },
    {
      op: 'depthwiseConv2d',
      name: 'dw',
      inputs: ['expand.act'],
      strides: [1, 1],
      padding: 'same',
      weight: tensor([3, 3, 24, 1], 0.5),
    },
    bn('dw.bn', 'dw', 24),
    { op: 'activation', name: 'dw.act', inputs: ['dw.bn'], activation: 'hswish' },
    // squeeze-excite: pool (keepDims) → 1×1 conv → ReLU → 1×1 conv → hard-sigmoid → scale the channels
    { op: 'globalAvgPool', name: 'se.pool', inputs: ['dw.act'], keepDims: true },
    {
      op: 'conv2d',
      name: 'se.reduce',
      inputs: ['se.pool'],
      strides: [1, 1],
      padding: 'same',
      weight: tensor([1, 1, 24, 8], 0.4),
      bias: tensor([8], 0.1),
    },
    { op: 'activation', name: 'se.relu', inputs: ['se.reduce'], activation: 'relu' },
    {
      op: 'conv2d',
      name: 'se.expand',
      inputs: ['se.relu'],
      strides: [1, 1],
      padding: 'same',
      weight: tensor([1, 1, 8, 24], 0.4),
      bias: tensor([24], 0.1),
    },
    { op: 'activation', name: 'se.gate', inputs: ['se.expand'], activation: 'hsigmoid' },
    { op: 'mul', name: 'se.scale', inputs: ['dw.act', 'se.gate'] },
    {
      op: 'conv2d',
      name: 'project',
      inputs: ['se.scale'],
      strides: [1, 1],
      padding: 'same',
      weight: tensor([1, 1, 24, 8], 0.4),
    },
    bn('project.bn', 'project', 8),
    { op: 'add', name: 'shortcut', inputs: ['stem.act', 'project.bn'] },
    { op: 'activation', name: 'head.act', inputs: ['shortcut'], activation: 'hswish' },
    { op: 'globalAvgPool', name: 'pool', inputs: ['head.act'], keepDims: false },
    { op: 'dense', name: 'fc', inputs: ['pool'], weight: tensor([8, 5], 0.8), bias: tensor([5], 0.1) },
  ],
};

async function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'runs/examples/export-model-ir' } },
  });
  const out = values.out;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  await initBackend(); // the tfjs check runs the LayersModel on the active tfjs backend

  // the IR: consistency and shapes, cost, and its binary file (what a training run writes as model.nair)
  const shapes = inferShapes(validateModelIR(ir));
  const { params, macs } = profile(ir);
  console.log(
    `ModelIR '${ir.name}': ${ir.nodes.length} nodes, output [${shapes.get(ir.output)}], params ${params}, MACs ${macs}`,
  );
  const nair = path.join(out, 'model.nair');
  fs.writeFileSync(nair, encodeModelIR(ir));
  const again = decodeModelIR(fs.readFileSync(nair));
  console.log(`model.nair: ${fs.statSync(nair).size} bytes, decodes to ${again.nodes.length} nodes`);

  // inputs: 24 seeded NHWC images; reference logits from the float64-accumulating JS executor
  const images = Array.from({ length: 24 }, () =>
    Float32Array.from({ length: 16 * 16 * 3 }, () => rng.uniform(0, 1)),
  );
  const expected = images.map((x) => runModelIR(ir, x));
  const calibration = Array.from({ length: 64 }, () =>
    Float32Array.from({ length: 16 * 16 * 3 }, () => rng.uniform(0, 1)),
  );

  const rows = [];
  const report = (format, files, bytes, comparison, against) => {
    rows.push({ format, bytes, maxAbsDiff: comparison.maxAbsDiff, top1Agreement: comparison.top1Agreement });
    console.log(
      `${format.padEnd(11)} ${String(bytes).padStart(6)} bytes  max |Δ| vs ${against} ${comparison.maxAbsDiff.toExponential(2)}  ` +
        `top-1 agreement ${comparison.top1Agreement}  (${files.map((f) => path.relative(out, f)).join(', ')})`,
    );
  };

  const tfjs = await exportModel(ir, { format: 'tfjs', out: path.join(out, 'web_model') });
  report(
    'tfjs',
    tfjs.files,
    tfjs.bytes,
    (await verifyTfjs(path.join(out, 'web_model'), images, { expected })).comparison,
    'runModelIR',
  );

  const onnx = await exportModel(ir, { format: 'onnx', out: path.join(out, 'model.onnx'), opset: 14 });
  report(
    'onnx',
    onnx.files,
    onnx.bytes,
    (await verifyOnnx(onnx.files[0], images, { expected })).comparison,
    'runModelIR',
  );

  const tflite = await exportModel(ir, { format: 'tflite', out: path.join(out, 'model.tflite') });
  report(
    'tflite',
    tflite.files,
    tflite.bytes,
    (await verifyTflite(tflite.files[0], images, { expected })).comparison,
    'runModelIR',
  );

  // int8: LiteRT.js against the same quantization simulated in JS (simulateInt8), and against float
  const int8 = await exportModel(ir, {
    format: 'tflite-int8',
    out: path.join(out, 'model_int8.tflite'),
    quantize: { calibration },
  });
  const simulated = images.map((x) => simulateInt8(ir, x, 1, calibration));
  const int8Run = await verifyTflite(int8.files[0], images, { expected: simulated });
  report('tflite-int8', int8.files, int8.bytes, int8Run.comparison, 'simulateInt8');
  const vsFloat =
    images.filter((_, i) => argmax(int8Run.outputs[i]) === argmax(expected[i])).length / images.length;
  console.log(
    `tflite-int8 top-1 agreement with the float model: ${vsFloat.toFixed(3)} (random weights; check real models on real data)`,
  );

  const header = path.join(out, 'model_data.h');
  fs.writeFileSync(header, toCHeader(fs.readFileSync(int8.files[0]), 'model_data'));
  console.log(`C header for TFLite-Micro: ${path.relative(out, header)} (${fs.statSync(header).size} bytes)`);
  fs.writeFileSync(path.join(out, 'verification.json'), JSON.stringify(rows, null, 2) + '\n');
}

function argmax(a) {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

await main();
