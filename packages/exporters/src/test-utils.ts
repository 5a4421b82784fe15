/**
 * Test helpers (not exported from the package): a small ModelIR builder with seeded random weights and
 * MobileNetV2-like test networks, plus input generators and comparison helpers.
 */
import {
  MODEL_IR_SCHEMA_VERSION,
  Rng,
  convOutSize,
  type ActivationKind,
  type IRNode,
  type IRTensor,
  type ModelIR,
  type Padding,
  type Shape3,
  type UpsampleMode,
} from '@netaug/core';
import { runModelIR } from './reference/run-model-ir';

function tensor(shape: number[], fill: (i: number) => number): IRTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill(i);
  return { shape, data };
}

/** Builds a ModelIR node by node, tracking shapes; weights are He-normal from a seeded generator. */
export class IRBuilder {
  readonly nodes: IRNode[] = [];
  private readonly shapes = new Map<string, number[]>();
  private readonly rng: Rng;
  private count = 0;

  constructor(
    readonly name: string,
    readonly inputShape: Shape3,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
    this.push({ op: 'input', name: 'input', inputs: [], shape: inputShape }, [...inputShape]);
  }

  shape(x: string): number[] {
    return this.shapes.get(x)!;
  }

  private id(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  private push(node: IRNode, shape: number[]): string {
    this.nodes.push(node);
    this.shapes.set(node.name, shape);
    return node.name;
  }

  conv(
    x: string,
    cout: number,
    k: number | [number, number],
    stride = 1,
    opts: { bias?: boolean; padding?: Padding } = {},
  ): string {
    const [h, w, cin] = this.shape(x);
    const [kh, kw] = typeof k === 'number' ? [k, k] : k;
    const padding = opts.padding ?? 'same';
    const std = Math.sqrt(2 / (kh * kw * cin));
    const name = this.id('conv');
    return this.push(
      {
        op: 'conv2d',
        name,
        inputs: [x],
        strides: [stride, stride],
        padding,
        weight: tensor([kh, kw, cin, cout], () => this.rng.normal(0, std)),
        bias: opts.bias ? tensor([cout], () => this.rng.normal(0, 0.1)) : undefined,
      },
      [convOutSize(h, kh, stride, padding), convOutSize(w, kw, stride, padding), cout],
    );
  }

  dw(x: string, k: number, stride = 1, opts: { bias?: boolean; padding?: Padding } = {}): string {
    const [h, w, c] = this.shape(x);
    const padding = opts.padding ?? 'same';
    const std = Math.sqrt(2 / (k * k));
    const name = this.id('dw');
    return this.push(
      {
        op: 'depthwiseConv2d',
        name,
        inputs: [x],
        strides: [stride, stride],
        padding,
        weight: tensor([k, k, c, 1], () => this.rng.normal(0, std)),
        bias: opts.bias ? tensor([c], () => this.rng.normal(0, 0.1)) : undefined,
      },
      [convOutSize(h, k, stride, padding), convOutSize(w, k, stride, padding), c],
    );
  }

  /** Batch norm with non-trivial running statistics. */
  bn(x: string): string {
    const s = this.shape(x);
    const c = s[s.length - 1];
    return this.push(
      {
        op: 'batchNorm',
        name: this.id('bn'),
        inputs: [x],
        gamma: tensor([c], () => this.rng.uniform(0.6, 1.4)),
        beta: tensor([c], () => this.rng.normal(0, 0.2)),
        mean: tensor([c], () => this.rng.normal(0, 0.3)),
        variance: tensor([c], () => this.rng.uniform(0.5, 2)),
        epsilon: 1e-3,
      },
      s,
    );
  }

  act(x: string, activation: ActivationKind): string {
    return this.push({ op: 'activation', name: this.id(activation), inputs: [x], activation }, this.shape(x));
  }

  add(a: string, b: string): string {
    return this.push({ op: 'add', name: this.id('add'), inputs: [a, b] }, this.shape(a));
  }

  mul(a: string, b: string): string {
    return this.push({ op: 'mul', name: this.id('mul'), inputs: [a, b] }, this.shape(a));
  }

  gap(x: string, keepDims: boolean): string {
    const c = this.shape(x)[2];
    return this.push(
      { op: 'globalAvgPool', name: this.id('gap'), inputs: [x], keepDims },
      keepDims ? [1, 1, c] : [c],
    );
  }

  maxPool(x: string, k: number, stride: number, padding: Padding = 'same'): string {
    const [h, w, c] = this.shape(x);
    return this.push(
      {
        op: 'maxPool',
        name: this.id('maxpool'),
        inputs: [x],
        poolSize: [k, k],
        strides: [stride, stride],
        padding,
      },
      [convOutSize(h, k, stride, padding), convOutSize(w, k, stride, padding), c],
    );
  }

  dense(x: string, units: number, bias = true): string {
    const [nin] = this.shape(x);
    const std = Math.sqrt(1 / nin);
    return this.push(
      {
        op: 'dense',
        name: this.id('dense'),
        inputs: [x],
        weight: tensor([nin, units], () => this.rng.normal(0, std)),
        bias: bias ? tensor([units], () => this.rng.normal(0, 0.1)) : undefined,
      },
      [units],
    );
  }

  /** Concatenation along the last axis. */
  concat(...xs: string[]): string {
    const s = this.shape(xs[0]);
    const last = xs.reduce((a, x) => a + this.shape(x)[s.length - 1], 0);
    return this.push({ op: 'concat', name: this.id('concat'), inputs: xs }, [...s.slice(0, -1), last]);
  }

  upsample(x: string, mode: UpsampleMode, scale: [number, number]): string {
    const [h, w, c] = this.shape(x);
    return this.push({ op: 'upsample', name: this.id(`up_${mode}`), inputs: [x], mode, scale }, [
      h * scale[0],
      w * scale[1],
      c,
    ]);
  }

  /** conv → BN → activation. */
  convBnAct(x: string, cout: number, k: number, stride: number, act?: ActivationKind): string {
    const y = this.bn(this.conv(x, cout, k, stride));
    return act ? this.act(y, act) : y;
  }

  /** depthwise → BN → activation. */
  dwBnAct(x: string, k: number, stride: number, act: ActivationKind): string {
    return this.act(this.bn(this.dw(x, k, stride)), act);
  }

  /** Squeeze-excite: GAP keepDims → 1×1 conv (bias) → relu → 1×1 conv (bias) → hsigmoid → mul. */
  se(x: string, reduction = 4): string {
    const c = this.shape(x)[2];
    const mid = Math.max(4, Math.floor(c / reduction));
    let g = this.gap(x, true);
    g = this.act(this.conv(g, mid, 1, 1, { bias: true }), 'relu');
    g = this.act(this.conv(g, c, 1, 1, { bias: true }), 'hsigmoid');
    return this.mul(x, g);
  }

  /** Inverted bottleneck (expand 1×1 → depthwise k×k → [SE] → project 1×1), residual when shapes allow. */
  invertedBottleneck(
    x: string,
    cout: number,
    k: number,
    stride: number,
    expand: number,
    act: ActivationKind,
    se = false,
  ): string {
    const cin = this.shape(x)[2];
    let y = this.convBnAct(x, cin * expand, 1, 1, act);
    y = this.dwBnAct(y, k, stride, act);
    if (se) y = this.se(y);
    y = this.convBnAct(y, cout, 1, 1);
    return stride === 1 && cin === cout ? this.add(x, y) : y;
  }

  /** An IR with several outputs (`outputs`), `numClasses` as given. */
  buildOutputs(outputs: string[], numClasses: number, name = this.name): ModelIR {
    return {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name,
      inputShape: this.inputShape,
      numClasses,
      nodes: this.nodes,
      output: outputs[0],
      outputs,
    };
  }

  build(output: string, name = this.name): ModelIR {
    const out = this.shape(output);
    return {
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name,
      inputShape: this.inputShape,
      numClasses: out[0],
      nodes: this.nodes,
      output,
    };
  }
}

/**
 * A MobileNetV2-like test network: stem conv s2 SAME (asymmetric padding on even inputs), a depthwise-separable
 * block, inverted bottlenecks with 3×3 / 5×5 / 7×7 depthwise kernels with and without residual adds, one SE block,
 * relu6 and hswish activations, a 1×1 head, global pooling and a dense classifier. `width` scales the channels;
 * `deep` adds a weight-heavy stride-2 stage before the head.
 */
export function mobilenetLike(
  inputShape: Shape3,
  opts: { width?: number; seed?: number; classes?: number; deep?: boolean } = {},
): ModelIR {
  const width = opts.width ?? 1;
  const ch = (c: number) => Math.max(4, Math.round(c * width));
  const b = new IRBuilder(`mbv2like_${inputShape.join('x')}_w${width}`, inputShape, opts.seed ?? 1);
  let x = b.convBnAct('input', ch(16), 3, 2, 'relu6'); // stem
  // depthwise-separable block
  x = b.dwBnAct(x, 3, 1, 'relu6');
  x = b.convBnAct(x, ch(8), 1, 1);
  x = b.invertedBottleneck(x, ch(16), 3, 2, 4, 'relu6'); // no residual
  x = b.invertedBottleneck(x, ch(16), 5, 1, 3, 'relu6'); // residual, 5×5
  x = b.invertedBottleneck(x, ch(24), 5, 2, 4, 'hswish', true); // SE + hswish
  x = b.invertedBottleneck(x, ch(24), 7, 1, 3, 'hswish'); // residual, 7×7
  if (opts.deep) {
    // a weight-heavy low-resolution stage (many parameters, few MACs): makes weights dominate the file size
    x = b.invertedBottleneck(x, ch(64), 3, 2, 6, 'relu6');
    x = b.invertedBottleneck(x, ch(64), 3, 1, 6, 'relu6');
  }
  x = b.convBnAct(x, ch(64), 1, 1, 'hswish'); // head
  x = b.gap(x, false);
  x = b.dense(x, opts.classes ?? 10);
  return b.build(x);
}

/**
 * Sets every batch norm's running mean and variance to the statistics of its input over `images` (in place,
 * in one pass: a BN's input is complete before the BN runs), as training would. Random networks with random
 * BN statistics have exploding, badly scaled activations that no trained network has; this keeps the test
 * networks realistic for quantization while the statistics stay non-trivial.
 */
export function fitBatchNormStats(ir: ModelIR, images: Float32Array[]): ModelIR {
  const bnByInput = new Map<string, IRNode[]>();
  for (const n of ir.nodes)
    if (n.op === 'batchNorm') bnByInput.set(n.inputs[0], [...(bnByInput.get(n.inputs[0]) ?? []), n]);
  runModelIR(ir, stack(images), images.length, {
    onNode: (node, out, shape) => {
      for (const bn of bnByInput.get(node.name) ?? []) {
        if (bn.op !== 'batchNorm') continue;
        const c = shape[shape.length - 1];
        const count = out.length / c;
        const mean = new Float64Array(c);
        const sq = new Float64Array(c);
        for (let i = 0; i < out.length; i++) {
          mean[i % c] += out[i] / count;
          sq[i % c] += (out[i] * out[i]) / count;
        }
        for (let ch = 0; ch < c; ch++) {
          bn.mean.data[ch] = mean[ch];
          bn.variance.data[ch] = Math.max(sq[ch] - mean[ch] * mean[ch], 1e-6);
        }
      }
    },
  });
  return ir;
}

/**
 * Replaces the dense classifier of a random-weight network by a nearest-prototype head, as a trained linear
 * probe would be: class `o` scores the (centred, normalised) pooled feature against the feature of prototype
 * image `o`, and logits are scaled to vary by about ±`spread`. With random weights the pooled features barely
 * change between inputs, so a random head gives one argmax for every input (a meaningless top-1 check) or
 * margins far below any quantization noise. Needs at least `numClasses` images; returns a new IR.
 */
export function prototypeClassifier(ir: ModelIR, images: Float32Array[], spread = 3): ModelIR {
  const dense = ir.nodes.find((n) => n.name === ir.output);
  if (!dense || dense.op !== 'dense') throw new Error('prototypeClassifier: the output node must be dense');
  const [nin, nout] = dense.weight.shape;
  if (images.length < nout) throw new Error(`prototypeClassifier: needs ≥ ${nout} images`);
  const feats: Float64Array[] = [];
  runModelIR(ir, stack(images), images.length, {
    onNode: (n, out) => {
      if (n.name !== dense.inputs[0]) return;
      for (let k = 0; k < images.length; k++) feats.push(out.slice(k * nin, (k + 1) * nin));
    },
  });
  const mean = new Float64Array(nin);
  for (const f of feats) for (let i = 0; i < nin; i++) mean[i] += f[i] / feats.length;
  const w = new Float32Array(nin * nout);
  const bias = new Float32Array(nout);
  for (let o = 0; o < nout; o++) {
    let norm = 0;
    for (let i = 0; i < nin; i++) norm += (feats[o][i] - mean[i]) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < nin; i++) {
      w[i * nout + o] = (feats[o][i] - mean[i]) / norm;
      bias[o] -= mean[i] * w[i * nout + o];
    }
  }
  // scale logits to the requested spread over the images
  let sq = 0;
  for (const f of feats) {
    for (let o = 0; o < nout; o++) {
      let z = bias[o];
      for (let i = 0; i < nin; i++) z += f[i] * w[i * nout + o];
      sq += (z * z) / (feats.length * nout);
    }
  }
  const k = spread / Math.sqrt(sq || 1);
  const node = {
    ...dense,
    weight: { shape: [nin, nout], data: w.map((v) => v * k) },
    bias: { shape: [nout], data: bias.map((v) => v * k) },
  };
  return { ...ir, nodes: ir.nodes.map((x) => (x === dense ? node : x)) };
}

/**
 * `n` deterministic pseudo-random NHWC images in [0, 1] ("random-ish" inputs): a blob, a plane wave and noise,
 * with a per-image colour tint and contrast so that images differ as much as natural images do.
 */
export function randomImages(shape: Shape3, n: number, seed = 7): Float32Array[] {
  const rng = new Rng(seed);
  const [h, w, c] = shape;
  const out: Float32Array[] = [];
  for (let k = 0; k < n; k++) {
    const img = new Float32Array(h * w * c);
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const r = rng.uniform(w / 8, w / 2);
    const fx = rng.uniform(-0.8, 0.8);
    const fy = rng.uniform(-0.8, 0.8);
    const contrast = rng.uniform(0.3, 1);
    const blobSign = rng.next() < 0.5 ? -1 : 1;
    const tint = Array.from({ length: c }, () => rng.uniform(0, 1));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const blob = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r));
        for (let ch = 0; ch < c; ch++) {
          const wave = Math.sin(fx * x + fy * y + 2 * ch);
          const v = tint[ch] + contrast * (0.5 * blobSign * blob + 0.3 * wave) + 0.1 * (rng.next() - 0.5);
          img[(y * w + x) * c + ch] = Math.min(1, Math.max(0, v));
        }
      }
    }
    out.push(img);
  }
  return out;
}

/** Concatenates images into one batch. */
export function stack(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of images) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** Splits a batch of outputs into per-example arrays. */
export function unstack(batch: Float32Array, n: number): Float32Array[] {
  const k = batch.length / n;
  return Array.from({ length: n }, (_, i) => batch.slice(i * k, (i + 1) * k));
}

/** Per-output batches (as `runModelIROutputs` returns) → per-example lists of outputs, `[example][output]`. */
export function perExample(outputs: Float32Array[], n: number): Float32Array[][] {
  const split = outputs.map((o) => unstack(o, n));
  return Array.from({ length: n }, (_, i) => split.map((s) => s[i]));
}

export { argmax, maxAbsDiff } from './verify/compare';
