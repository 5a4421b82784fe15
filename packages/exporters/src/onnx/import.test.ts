/**
 * importOnnx against independent references:
 * - PyTorch: a MobileNetV2-Tiny written in plain torch.nn (`__fixtures__/torch_mobilenetv2.py`, run with the
 *   Python that has torch — env NETAUG_PYTHON, default /usr/bin/python3), random weights and BN statistics,
 *   exported with BatchNormalization kept and folded; the imported model must give PyTorch's (float64)
 *   logits.
 *   Skipped without torch, except under CI, where it fails.
 * - this package's own ONNX export (round trip), with and without folded batch norm;
 * - refusals: the error names the first ONNX node that does not fit.
 */
import * as assert from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { NetAugError, Rng, type IRNode, type IRTensor, type ModelIR, type Shape3 } from '@netaug/core';
import { createSupernet } from '@netaug/supernet';
import { runModelIR } from '../reference/run-model-ir';
import { IRBuilder, fitBatchNormStats, maxAbsDiff, mobilenetLike, randomImages, stack } from '../test-utils';
import { verifyOnnx } from '../verify/onnx';
import { buildOnnx } from './export';
import { importOnnx } from './import';
import { onnx } from './proto';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-onnx-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isTensor = (v: unknown): v is IRTensor =>
  !!v && typeof v === 'object' && 'data' in v && 'shape' in v && (v as IRTensor).data instanceof Float32Array;

const zooCache = new Map<string, ModelIR>();

/** The tiny model of the zoo's mobilenetv2-tiny, small-input form (stem stride 1, total stride 8); a fresh copy. */
function zooTarget(inputShape: Shape3): ModelIR {
  const key = inputShape.join('x');
  if (!zooCache.has(key)) {
    const net = createSupernet('mobilenetv2-tiny', { numClasses: 10, inputShape, smallInput: true, seed: 3 });
    try {
      net.setActive('min');
      zooCache.set(key, net.extract());
    } finally {
      net.dispose();
    }
  }
  const ir = zooCache.get(key)!;
  const copy = (v: unknown) =>
    isTensor(v) ? { shape: [...v.shape], data: v.data.slice() } : Array.isArray(v) ? [...v] : v;
  return {
    ...ir,
    inputShape: [...ir.inputShape],
    nodes: ir.nodes.map(
      (n) => Object.fromEntries(Object.entries(n).map(([k, v]) => [k, copy(v)])) as unknown as IRNode,
    ),
  };
}

/** NCHW batch → NHWC batch. */
function nchwToNhwc(x: Float32Array, n: number, [h, w, c]: Shape3): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let i = 0; i < w; i++) out[((b * h + y) * w + i) * c + ch] = x[((b * c + ch) * h + y) * w + i];
  return out;
}

/** Catches the NetAugError `fn` throws. */
function errorOf(fn: () => unknown): NetAugError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetAugError);
    return e as NetAugError;
  }
  throw new Error('expected a NetAugError');
}

/** Gives every batch norm non-trivial statistics and affine parameters (a fresh supernet has mean 0, var 1). */
function randomizeBatchNorm(ir: ModelIR, seed = 11): ModelIR {
  const rng = new Rng(seed);
  for (const n of ir.nodes) {
    if (n.op !== 'batchNorm') continue;
    n.gamma.data.forEach((_, i) => (n.gamma.data[i] = rng.uniform(0.6, 1.4)));
    n.beta.data.forEach((_, i) => (n.beta.data[i] = rng.normal(0, 0.2)));
    n.mean.data.forEach((_, i) => (n.mean.data[i] = rng.normal(0, 0.3)));
    n.variance.data.forEach((_, i) => (n.variance.data[i] = rng.uniform(0.5, 2)));
  }
  return ir;
}

// ---------------------------------------------------------------------------------------------------------------
// PyTorch → ONNX → NetAug.js

const PYTHON = process.env.NETAUG_PYTHON || '/usr/bin/python3';
const SCRIPT = path.join(__dirname, '__fixtures__', 'torch_mobilenetv2.py');
const torchProbe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchVersion = torchProbe.status === 0 ? torchProbe.stdout.trim() : undefined;
const noTorch = torchVersion
  ? undefined
  : `no PyTorch in ${PYTHON} (${(torchProbe.error?.message ?? torchProbe.stderr ?? '').trim().split('\n').pop()}); install python3-torch or set NETAUG_PYTHON`;

if (noTorch) {
  // CI installs python3-torch: there a missing torch is a failure; locally the tests are skipped with the reason
  if (process.env.CI) it('PyTorch reference (CI needs torch)', () => void assert.fail(`CI: ${noTorch}`));
  else it.skip(`PyTorch → ONNX import tests: ${noTorch}`, () => undefined);
}

(noTorch ? describe.skip : describe)(`PyTorch ${torchVersion ?? ''} → ONNX → importOnnx`, () => {
  const SIZE = 25; // odd at every stride-2 layer: PyTorch's symmetric padding is TensorFlow SAME there
  const EVEN = 28;
  const BATCH = 2;
  const out = path.join(dir, 'torch');
  let target: ModelIR;
  let target28: ModelIR;
  const read = (f: string) => new Uint8Array(readFileSync(path.join(out, f)));
  const f32 = (f: string) => new Float32Array(read(f).slice().buffer);
  const f64 = (f: string) => new Float64Array(read(f).slice().buffer);

  beforeAll(() => {
    const r = spawnSync(
      PYTHON,
      [SCRIPT, out, '--size', `${SIZE}`, '--batch', `${BATCH}`, '--tf-pad-size', `${EVEN}`],
      { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
    if (r.status !== 0) throw new Error(`${SCRIPT} failed:\n${r.stderr}`);
    target = zooTarget([SIZE, SIZE, 3]);
    target28 = zooTarget([EVEN, EVEN, 3]);
  });

  /** Logits of the imported model (reference executor, NHWC input) against PyTorch's float64 logits. */
  function check(ir: ModelIR, input: string, logits: string, size: number): number {
    const x = nchwToNhwc(f32(input), BATCH, [size, size, 3]);
    const ours = runModelIR(ir, x, BATCH);
    const ref = Float32Array.from(f64(logits));
    expect(ours.length).toBe(ref.length);
    const diff = maxAbsDiff(ours, ref);
    console.log(
      `${input}: max abs diff ${diff.toExponential(2)} (logits up to ${Math.max(...ref.map(Math.abs)).toFixed(2)})`,
    );
    expect(diff).toBeLessThan(1e-4);
    return diff;
  }

  it('BatchNormalization kept (TrainingMode.PRESERVE, eval semantics): weights and statistics imported, logits match', async () => {
    const { ir, bnFolded, notes } = importOnnx(read('bn.onnx'), target);
    expect(bnFolded).toBe(false);
    expect(notes).toEqual([]);
    // the target's names and structure, PyTorch's weights and non-trivial BN statistics
    expect(ir.nodes.map((n) => `${n.op}:${n.name}:${n.inputs}`)).toEqual(
      target.nodes.map((n) => `${n.op}:${n.name}:${n.inputs}`),
    );
    const bn = ir.nodes.find((n) => n.name === 'blocks.4.expand.bn')!;
    if (bn.op !== 'batchNorm') throw new Error('not a batch norm');
    expect(Math.max(...bn.mean.data.map(Math.abs))).toBeGreaterThan(0.01);
    expect(bn.variance.data.some((v) => Math.abs(v - 1) > 0.05)).toBe(true);
    expect(ir.metadata).toMatchObject({ importedFrom: 'onnx', bnFolded: false });
    expect(String(ir.metadata?.onnxProducer)).toMatch(/^pytorch/);
    check(ir, 'input.f32', 'logits.f64', SIZE);
    // (the target's own initial weights give other logits: the comparison is not trivially met)
    const x = nchwToNhwc(f32('input.f32'), BATCH, [SIZE, SIZE, 3]);
    expect(maxAbsDiff(runModelIR(target, x, BATCH), Float32Array.from(f64('logits.f64')))).toBeGreaterThan(
      1e-2,
    );

    // and in onnxruntime, re-exported by this package (NHWC input)
    const images = Array.from({ length: BATCH }, (_, b) =>
      nchwToNhwc(f32('input.f32'), BATCH, [SIZE, SIZE, 3]).slice(
        b * SIZE * SIZE * 3,
        (b + 1) * SIZE * SIZE * 3,
      ),
    );
    const ref = f64('logits.f64');
    const expected = images.map((_, b) => Float32Array.from(ref.subarray(b * 10, (b + 1) * 10)));
    const { comparison } = await verifyOnnx(buildOnnx(ir), images, { expected });
    console.log(`re-export in onnxruntime: max abs diff ${comparison!.maxAbsDiff.toExponential(2)}`);
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('BatchNormalization folded (eval-mode export): convs with bias, BN as identity carrying it, logits match', () => {
    const { ir, bnFolded, notes } = importOnnx(read('folded.onnx'), target);
    expect(bnFolded).toBe(true);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /folded into the convolutions.*52 of 52 batch norms.*re-estimate the BN statistics/,
    );
    for (const n of ir.nodes) {
      if (n.op === 'conv2d' || n.op === 'depthwiseConv2d') expect(n.bias).toBeUndefined(); // the target's structure
      if (n.op !== 'batchNorm') continue;
      expect(n.gamma.data.every((v) => v === 1)).toBe(true);
      expect(n.mean.data.every((v) => v === 0)).toBe(true);
      expect(n.variance.data.every((v) => v === Math.fround(1 - n.epsilon))).toBe(true);
    }
    check(ir, 'input.f32', 'logits.f64', SIZE);
  });

  it("TensorFlow SAME written as nn.ZeroPad2d before PyTorch's stride-2 convs (even input): Pad + Conv imported", () => {
    const { ir, bnFolded } = importOnnx(read('tfpad.onnx'), target28);
    expect(bnFolded).toBe(true);
    check(ir, 'input-tfpad.f32', 'logits-tfpad.f64', EVEN);
  });

  it("refuses PyTorch's symmetric padding where SAME pads after (even input), naming the ONNX node", () => {
    const e = errorOf(() => importOnnx(read('folded.onnx'), target28));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).not.toContain('\n');
    expect(e.message).toContain(
      "ONNX node '/features/features.4/conv/conv.1/conv/Conv' (Conv) does not fit target node 'blocks.3.depthwise.conv' (depthwiseConv2d): padding [top 1, left 1, bottom 1, right 1] at the target's 28×28 input, the target's SAME [top 0, left 0, bottom 1, right 1]",
    );
    expect(e.hint).toMatch(/allowPaddingMismatch/);
    // accepted on request, with a note (the input size differs from the export's too)
    const { notes } = importOnnx(read('folded.onnx'), target28, { allowPaddingMismatch: true });
    expect(notes.join('\n')).toMatch(
      /allowPaddingMismatch: 2 convolution\(s\) \/ max pool\(s\) pad otherwise/,
    );
    expect(notes.join('\n')).toMatch(/exported for 25×25 inputs, the target takes 28×28/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// this package's ONNX export, imported back

describe('round trip: buildOnnx → importOnnx', () => {
  const shape: Shape3 = [25, 25, 3];
  let target: ModelIR;
  let images: Float32Array[];
  let expected: Float32Array;

  beforeAll(() => {
    target = randomizeBatchNorm(zooTarget(shape));
    images = randomImages(shape, 2, 5);
    expected = runModelIR(target, stack(images), images.length);
  });

  it.each([
    ['BN folded (default export), NHWC', {}, true],
    ['BN kept, opset 14, NCHW input', { foldBN: false, opset: 14, inputLayout: 'nchw' as const }, false],
  ])('zoo mobilenetv2-tiny: %s', (_label, exportOpts, folded) => {
    // the weights come from another model of the same architecture (a different seed)
    const source = randomizeBatchNorm(zooTarget(shape), 99);
    const { ir, bnFolded, notes } = importOnnx(buildOnnx(source, exportOpts), target);
    expect(bnFolded).toBe(folded);
    expect(notes).toHaveLength(folded ? 1 : 0);
    const want = runModelIR(source, stack(images), images.length);
    const diff = maxAbsDiff(runModelIR(ir, stack(images), images.length), want);
    expect(diff).toBeLessThan(1e-5);
    expect(maxAbsDiff(expected, want)).toBeGreaterThan(1e-3); // the target's own weights were replaced
    if (!folded) {
      // nothing to fold back: every tensor is exactly the source's
      const differ: string[] = [];
      const bytesOf = (t: IRTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      source.nodes.forEach((n, i) => {
        for (const [k, v] of Object.entries(n)) {
          const got = (ir.nodes[i] as unknown as Record<string, IRTensor>)[k];
          if (isTensor(v) && !bytesOf(got).equals(bytesOf(v))) differ.push(`${n.name}.${k}`);
        }
      });
      expect(differ).toEqual([]);
    }
  });

  it('test net with SE (convs with bias), hswish, 5×5/7×7 depthwise, asymmetric SAME padding, ε 1e-3', () => {
    const ir0 = mobilenetLike([32, 32, 3], { seed: 4 });
    fitBatchNormStats(ir0, randomImages([32, 32, 3], 4, 2));
    const imgs = randomImages([32, 32, 3], 2, 9);
    const want = runModelIR(ir0, stack(imgs), 2);
    for (const opts of [{ opset: 13 }, { opset: 14, foldBN: false }]) {
      const { ir } = importOnnx(buildOnnx(ir0, opts), ir0);
      expect(maxAbsDiff(runModelIR(ir, stack(imgs), 2), want)).toBeLessThan(1e-5);
    }
  });

  it('classifier for other classes: imported with its class count, or skipped with newHead', () => {
    const source = zooTarget(shape);
    const cls = source.nodes.find((n) => n.name === 'classifier')!;
    if (cls.op !== 'dense') throw new Error('no dense classifier');
    const rng = new Rng(1);
    cls.weight = {
      shape: [448, 1000],
      data: Float32Array.from({ length: 448 * 1000 }, () => rng.normal(0, 0.05)),
    };
    cls.bias = { shape: [1000], data: new Float32Array(1000) };
    source.numClasses = 1000;
    const bytes = buildOnnx(source);
    const a = importOnnx(bytes, target);
    expect(a.ir.numClasses).toBe(1000);
    expect(a.notes.join('\n')).toMatch(/has 1000 classes, the target 10.*newHead/);
    const b = importOnnx(bytes, target, { newHead: true });
    expect(b.ir.numClasses).toBe(10);
    const kept = b.ir.nodes.find((n) => n.name === 'classifier')!;
    expect(kept.op === 'dense' && kept.weight.data).toEqual(
      (target.nodes.find((n) => n.name === 'classifier') as { weight: IRTensor }).weight.data,
    );
    expect(b.notes.join('\n')).toMatch(/newHead: the ONNX classifier 'classifier' \(Gemm\) was not imported/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// refusals

/** Renames every node but the input (`prefix` + name), as another framework's export would. */
function renamed(ir: ModelIR, prefix: string): ModelIR {
  const map = (x: string) => (x === 'input' ? x : prefix + x);
  return {
    ...ir,
    nodes: ir.nodes.map((n) => ({ ...n, name: map(n.name), inputs: n.inputs.map(map) }) as IRNode),
    output: map(ir.output),
  };
}

/** Removes the nodes of block `block` (a residual block: its input and output shapes agree). */
function withoutBlock(ir: ModelIR, block: string): ModelIR {
  const mine = ir.nodes.filter((n) => n.name.startsWith(`${block}.`));
  const input = mine[0].inputs[0];
  const output = mine[mine.length - 1].name;
  return {
    ...ir,
    nodes: ir.nodes
      .filter((n) => !mine.includes(n))
      .map((n) => ({ ...n, inputs: n.inputs.map((x) => (x === output ? input : x)) }) as IRNode),
  };
}

/** Block `block` of an inverted bottleneck with `mid` expanded channels instead of its own. */
function narrowed(ir: ModelIR, block: string, mid: number): ModelIR {
  const slice = (t: IRTensor, axis: number): IRTensor => {
    const shape = [...t.shape];
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const data = new Float32Array(outer * mid * inner);
    for (let o = 0; o < outer; o++)
      data.set(t.data.subarray(o * shape[axis] * inner, (o * shape[axis] + mid) * inner), o * mid * inner);
    shape[axis] = mid;
    return { shape, data };
  };
  return {
    ...ir,
    nodes: ir.nodes.map((n) => {
      if (!n.name.startsWith(`${block}.`)) return n;
      if (n.op === 'batchNorm' && !n.name.endsWith('project.bn'))
        return {
          ...n,
          gamma: slice(n.gamma, 0),
          beta: slice(n.beta, 0),
          mean: slice(n.mean, 0),
          variance: slice(n.variance, 0),
        };
      if (n.op === 'conv2d' && n.name.endsWith('expand.conv')) return { ...n, weight: slice(n.weight, 3) };
      if (n.op === 'conv2d' && n.name.endsWith('project.conv')) return { ...n, weight: slice(n.weight, 2) };
      if (n.op === 'depthwiseConv2d') return { ...n, weight: slice(n.weight, 2) };
      return n;
    }),
  };
}

describe('refusals name the first ONNX node that does not fit', () => {
  const shape: Shape3 = [25, 25, 3];
  let target: ModelIR;
  beforeAll(() => {
    target = zooTarget(shape);
  });
  const refuse = (bytes: Uint8Array, t: ModelIR = target) => {
    const e = errorOf(() => importOnnx(bytes, t));
    expect(e.message).not.toContain('\n');
    return e;
  };

  it('a layer of another width', () => {
    const e = refuse(buildOnnx(renamed(narrowed(target, 'blocks.4', 80), 'torch/'), { foldBN: false }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toContain(
      "ONNX node 'torch/blocks.4.expand.conv' (Conv) does not fit target node 'blocks.4.expand.conv' (conv2d): weight [80,16,1,1], expected [96,16,1,1] (OIHW)",
    );
    expect(e.details).toMatchObject({
      onnxNode: 'torch/blocks.4.expand.conv',
      onnxOp: 'Conv',
      targetNode: 'blocks.4.expand.conv',
    });
  });

  it('a layer missing (residual block 5 left out)', () => {
    // the ONNX graph's block 6 (stride 2) meets the target's block 5 (stride 1)
    const e = refuse(buildOnnx(renamed(withoutBlock(target, 'blocks.5'), 'torch/'), { foldBN: false }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toContain(
      "ONNX node 'torch/blocks.6.depthwise.conv' (Conv) does not fit target node 'blocks.5.depthwise.conv' (depthwiseConv2d): strides [2,2], expected [1,1]",
    );
  });

  it('an extra layer (the target lacks block 5)', () => {
    const e = refuse(buildOnnx(renamed(target, 'torch/')), withoutBlock(target, 'blocks.5'));
    expect(e.message).toContain(
      "ONNX node 'torch/blocks.5.depthwise.conv' (Conv) does not fit target node 'blocks.6.depthwise.conv' (depthwiseConv2d): strides [1,1], expected [2,2]",
    );
  });

  it('an extra layer at the end, and a missing one', () => {
    const rng = new Rng(2);
    const longer: ModelIR = {
      ...target,
      nodes: [
        ...target.nodes,
        {
          op: 'dense',
          name: 'extra',
          inputs: ['classifier'],
          weight: { shape: [10, 10], data: Float32Array.from({ length: 100 }, () => rng.normal(0, 0.3)) },
        },
      ],
      output: 'extra',
    };
    const extra = refuse(buildOnnx(renamed(longer, 'torch/')));
    expect(extra.message).toContain(
      "ONNX node 'torch/extra' (Gemm, B [10,10]: 10 → 10) has no counterpart in the target: its weighted nodes end with 'classifier', fitted by 'torch/classifier' (Gemm)",
    );
    const missing = refuse(buildOnnx(renamed(target, 'torch/')), longer);
    expect(missing.message).toContain(
      "the ONNX model has no layer for target node 'extra' (dense, 10 → 10): its last weighted node 'torch/classifier' (Gemm) fitted 'classifier'",
    );
  });

  it('an op with weights the IR cannot hold (input normalisation inside the graph)', () => {
    const m = onnx.ModelProto.decode(buildOnnx(target));
    const g = m.graph!;
    const first = g.node!.findIndex((n) => n.opType === 'Conv');
    const x = g.node![first].input![0];
    g.initializer!.push({
      name: 'std',
      dims: [1, 3, 1, 1],
      dataType: onnx.TensorProto.DataType.FLOAT,
      floatData: [0.229, 0.224, 0.225],
    });
    g.node!.splice(first, 0, { opType: 'Div', name: 'normalize', input: [x, 'std'], output: ['normalized'] });
    g.node![first + 1].input![0] = 'normalized';
    const e = refuse(onnx.ModelProto.encode(m).finish());
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toContain(
      "ONNX node 'normalize' (Div) holds weights (a constant [1,3,1,1] input 'std')",
    );
  });

  it("a max pool padded otherwise than the target's SAME (checked though it has no weights)", () => {
    // ResNet-like stem: conv 3×3 s2 + BN + ReLU, max pool 3×3 s2 SAME on an even 8×8 map, head
    const b = new IRBuilder('pool-net', [16, 16, 3], 3);
    let x = b.convBnAct('input', 8, 3, 2, 'relu');
    x = b.maxPool(x, 3, 2);
    x = b.convBnAct(x, 16, 3, 1, 'relu');
    const ir = b.build(b.dense(b.gap(x, false), 5));
    const bytes = buildOnnx(ir);
    const imgs = randomImages([16, 16, 3], 2, 1);
    expect(
      maxAbsDiff(runModelIR(importOnnx(bytes, ir).ir, stack(imgs), 2), runModelIR(ir, stack(imgs), 2)),
    ).toBeLessThan(1e-5);
    // PyTorch's MaxPool2d(3, 2, padding=1): symmetric pads
    const m = onnx.ModelProto.decode(bytes);
    const pool = m.graph!.node!.find((n) => n.opType === 'MaxPool')!;
    pool.attribute!.find((a) => a.name === 'pads')!.ints = [1, 1, 1, 1];
    const torchLike = onnx.ModelProto.encode(m).finish();
    const e = refuse(torchLike, ir);
    expect(e.message).toContain(
      `ONNX node '${pool.name}' (MaxPool) does not fit target node '${pool.name}' (maxPool): padding [top 1, left 1, bottom 1, right 1] at the target's 8×8 input, the target's SAME [top 0, left 0, bottom 1, right 1]`,
    );
    const { notes } = importOnnx(torchLike, ir, { allowPaddingMismatch: true });
    expect(notes.join('\n')).toMatch(/1 convolution\(s\) \/ max pool\(s\) pad otherwise.*MaxPool/);
  });

  it('bytes that are not an ONNX model', () => {
    const e = refuse(new TextEncoder().encode('not an onnx model at all'));
    expect(e.code).toBe('DATA_FORMAT');
  });
});

// ---------------------------------------------------------------------------------------------------------------

it('the README example (Importing ONNX weights) runs', async () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Importing ONNX weights'));
  const code = /```js\n([\s\S]*?)```/.exec(section)![1];
  // the weights "from elsewhere": another model of the example's architecture, exported with BN folded
  const file = path.join(dir, 'mobilenetv2_tiny.onnx');
  require('node:fs').writeFileSync(file, buildOnnx(randomizeBatchNorm(zooTarget([25, 25, 3]), 5)));
  const body = code
    .replace(/^import (\{[^}]*\}) from '([^']+)';$/gm, 'const $1 = require("$2");')
    .replace(/^import '([^']+)';$/gm, 'require("$1");')
    .replace("'mobilenetv2_tiny.onnx'", JSON.stringify(file))
    .replace(/^console\.log\((.*)\);.*$/m, 'return { $1 };');
  expect(body).not.toMatch(/^import /m);
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
  const r = await new AsyncFunction('require', body)(require);
  expect(r.bnFolded).toBe(true);
  expect(r.logits).toHaveLength(10);
});
