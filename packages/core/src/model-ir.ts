import { NetAugError } from './errors';

/** Version of the {@link ModelIR} layout; bumped on any incompatible change. */
export const MODEL_IR_SCHEMA_VERSION = 1 as const;

/** Per-example NHWC shape `[height, width, channels]`. */
export type Shape3 = [number, number, number];

/** Activation functions an IR node can apply. `hswish(x) = x·relu6(x+3)/6`, `hsigmoid(x) = relu6(x+3)/6`. */
export type ActivationKind = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'sigmoid';

/**
 * Padding with TensorFlow semantics: `same` gives `ceil(in / stride)` outputs and puts the odd pixel of
 * padding after (bottom/right); `valid` pads nothing. See {@link samePadding}.
 */
export type Padding = 'same' | 'valid';

/** A dense float32 tensor in row-major order. */
export interface IRTensor {
  shape: number[];
  data: Float32Array;
}

interface NodeBase {
  /** Unique node name; also the name of its single output. */
  name: string;
  /** Names of the nodes whose outputs this node consumes, in order. */
  inputs: string[];
}

/** The network input, NHWC without the batch axis. */
export interface InputNode extends NodeBase {
  op: 'input';
  shape: Shape3;
}

/** 2-D convolution, weight `[kh, kw, cin, cout]` (HWIO, as TensorFlow). */
export interface Conv2dNode extends NodeBase {
  op: 'conv2d';
  strides: [number, number];
  padding: Padding;
  weight: IRTensor;
  bias?: IRTensor;
}

/** Depthwise 2-D convolution with channel multiplier 1, weight `[kh, kw, C, 1]` (as TensorFlow). */
export interface DepthwiseConv2dNode extends NodeBase {
  op: 'depthwiseConv2d';
  strides: [number, number];
  padding: Padding;
  weight: IRTensor;
  bias?: IRTensor;
}

/** Inference batch normalisation: `y = gamma·(x − mean)/sqrt(variance + epsilon) + beta`, per channel. */
export interface BatchNormNode extends NodeBase {
  op: 'batchNorm';
  gamma: IRTensor;
  beta: IRTensor;
  mean: IRTensor;
  variance: IRTensor;
  epsilon: number;
}

export interface ActivationNode extends NodeBase {
  op: 'activation';
  activation: ActivationKind;
}

/** Element-wise sum of two same-shaped inputs (residual shortcut). */
export interface AddNode extends NodeBase {
  op: 'add';
}

/** Element-wise product; the second input may be `[1, 1, C]` and broadcasts (squeeze-excite gate). */
export interface MulNode extends NodeBase {
  op: 'mul';
}

/** Mean over height and width; `keepDims` gives `[1, 1, C]`, otherwise `[C]`. */
export interface GlobalAvgPoolNode extends NodeBase {
  op: 'globalAvgPool';
  keepDims: boolean;
}

/**
 * Max pooling over `poolSize` windows (TensorFlow semantics: `same` padding gives `ceil(in / stride)` outputs and
 * padded positions never win; `valid` pads nothing). No weights.
 */
export interface MaxPoolNode extends NodeBase {
  op: 'maxPool';
  /** Window `[kh, kw]`. */
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

/** Fully connected layer on a `[C]` input, weight `[in, out]`. */
export interface DenseNode extends NodeBase {
  op: 'dense';
  weight: IRTensor;
  bias?: IRTensor;
}

/**
 * Concatenation of two or more inputs along their last axis: the channels of `[H, W, C]` feature maps (NHWC), or
 * the features of `[C]` vectors. The inputs have the same rank and agree on every other dimension; the output's
 * last dimension is the sum of theirs, the inputs' values in input order. No weights.
 */
export interface ConcatNode extends NodeBase {
  op: 'concat';
}

/** Interpolation of an {@link UpsampleNode}. */
export type UpsampleMode = 'nearest' | 'bilinear';

/**
 * Upsampling of an `[H, W, C]` feature map by integer factors to `[H·sh, W·sw, C]`. No weights.
 *
 * - `nearest`: output pixel `(i, j)` copies input pixel `(⌊i / sh⌋, ⌊j / sw⌋)` — PyTorch
 *   `interpolate(mode='nearest')`, TF `resize_nearest_neighbor(align_corners=False, half_pixel_centers=False)`,
 *   ONNX `Resize(mode='nearest', coordinate_transformation_mode='asymmetric', nearest_mode='floor')`.
 * - `bilinear` with half-pixel centers (`align_corners = false`): output row `i` samples input row
 *   `y = max(0, (i + 0.5) / sh − 0.5)`, interpolating rows `⌊y⌋` and `min(⌊y⌋ + 1, H − 1)` with weights
 *   `1 − (y − ⌊y⌋)` and `y − ⌊y⌋` (columns likewise; separable) — PyTorch
 *   `interpolate(mode='bilinear', align_corners=False)`, TF `resize_bilinear(half_pixel_centers=True)` /
 *   `tf.image.resize`, ONNX `Resize(mode='linear', coordinate_transformation_mode='half_pixel')`.
 */
export interface UpsampleNode extends NodeBase {
  op: 'upsample';
  mode: UpsampleMode;
  /** Integer factors `[sh, sw]`, each ≥ 1. */
  scale: [number, number];
}

export type IRNode =
  | InputNode
  | Conv2dNode
  | DepthwiseConv2dNode
  | BatchNormNode
  | ActivationNode
  | AddNode
  | MulNode
  | GlobalAvgPoolNode
  | MaxPoolNode
  | DenseNode
  | ConcatNode
  | UpsampleNode;

export type IROp = IRNode['op'];

/**
 * Framework-neutral description of a static (exported) network. Produced by a supernet's `extract()`,
 * consumed by every exporter; nothing else couples them. Nodes are in topological order and the first one is
 * the input.
 *
 * Outputs come in two forms:
 * - single output (classifiers; the only form before detection models): `output` names the node that produces
 *   the `[numClasses]` logits and `outputs` is absent;
 * - several outputs (detectors; also a single non-logit output): `outputs` names every output node in order
 *   (at least one, no repeats), with `output === outputs[0]`. Outputs may have any shape — `[H, W, C]` feature
 *   maps, `[C]` vectors — and `numClasses` is then the number of object classes, not an output size.
 *
 * Use {@link modelOutputs} to read the output list of either form.
 */
export interface ModelIR {
  schemaVersion: typeof MODEL_IR_SCHEMA_VERSION;
  name: string;
  inputShape: Shape3;
  numClasses: number;
  nodes: IRNode[];
  /** The (first) output node. */
  output: string;
  /** Every output node, in order, when the model has several (or non-logit) outputs; `outputs[0] === output`. */
  outputs?: string[];
  metadata?: Record<string, string | number | boolean>;
}

/** The output nodes of a ModelIR in order: `ir.outputs`, or `[ir.output]` in the single-output form. */
export function modelOutputs(ir: Pick<ModelIR, 'output' | 'outputs'>): string[] {
  return ir.outputs ?? [ir.output];
}

/** TensorFlow SAME padding along one axis: `[before, after]` and the output size. */
export function samePadding(
  inSize: number,
  kernel: number,
  stride: number,
): { before: number; after: number; out: number } {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, out };
}

/** Output size of a convolution along one axis. */
export function convOutSize(inSize: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(inSize / stride) : Math.floor((inSize - kernel) / stride) + 1;
}

function irError(ir: { name?: string }, node: { name: string } | undefined, msg: string): NetAugError {
  return new NetAugError(
    'INVALID_CONFIG',
    `ModelIR '${ir.name ?? '?'}'${node ? `, node '${node.name}'` : ''}: ${msg}`,
  );
}

function checkTensor(ir: ModelIR, node: IRNode, what: string, t: IRTensor | undefined, shape: number[]) {
  if (!t) throw irError(ir, node, `missing ${what}`);
  if (!(t.data instanceof Float32Array)) throw irError(ir, node, `${what}.data must be a Float32Array`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n)
    throw irError(ir, node, `${what} has ${t.data.length} values for shape [${t.shape}]`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i] >= 0 && d !== shape[i])) {
    throw irError(
      ir,
      node,
      `${what} has shape [${t.shape}], expected [${shape.map((d) => (d < 0 ? '?' : d))}]`,
    );
  }
}

/**
 * Checks the IR for consistency (names, order, weight shapes) and returns the output shape of every node
 * for the given input shape (default: `ir.inputShape`). Throws an INVALID_CONFIG NetAugError naming the node.
 */
export function inferShapes(ir: ModelIR, inputShape: Shape3 = ir.inputShape): Map<string, number[]> {
  if (ir.schemaVersion !== MODEL_IR_SCHEMA_VERSION) {
    throw irError(
      ir,
      undefined,
      `schemaVersion ${ir.schemaVersion} is not supported (this library reads ${MODEL_IR_SCHEMA_VERSION})`,
    );
  }
  const shapes = new Map<string, number[]>();
  ir.nodes.forEach((node, i) => {
    if (shapes.has(node.name)) throw irError(ir, node, 'duplicate node name');
    const ins = node.inputs.map((n) => {
      const s = shapes.get(n);
      if (!s) throw irError(ir, node, `input '${n}' is not defined before this node`);
      return s;
    });
    const needInputs = (k: number) => {
      if (ins.length !== k) throw irError(ir, node, `expects ${k} input(s), has ${ins.length}`);
    };
    const needRank3 = () => {
      if (ins[0].length !== 3) throw irError(ir, node, `expects a [H, W, C] input, got [${ins[0]}]`);
    };
    let out: number[];
    switch (node.op) {
      case 'input':
        if (i !== 0) throw irError(ir, node, 'the input node must come first');
        needInputs(0);
        out = [...inputShape];
        break;
      case 'conv2d':
      case 'depthwiseConv2d': {
        needInputs(1);
        needRank3();
        const [h, w, c] = ins[0];
        const [kh, kw] = node.weight?.shape ?? [];
        const dw = node.op === 'depthwiseConv2d';
        checkTensor(ir, node, 'weight', node.weight, dw ? [-1, -1, c, 1] : [-1, -1, c, -1]);
        const cout = dw ? c : node.weight.shape[3];
        if (node.bias) checkTensor(ir, node, 'bias', node.bias, [cout]);
        const oh = convOutSize(h, kh, node.strides[0], node.padding);
        const ow = convOutSize(w, kw, node.strides[1], node.padding);
        if (oh < 1 || ow < 1)
          throw irError(ir, node, `input [${ins[0]}] is too small for a ${kh}×${kw} kernel`);
        out = [oh, ow, cout];
        break;
      }
      case 'batchNorm': {
        needInputs(1);
        const c = ins[0][ins[0].length - 1];
        for (const k of ['gamma', 'beta', 'mean', 'variance'] as const)
          checkTensor(ir, node, k, node[k], [c]);
        out = ins[0];
        break;
      }
      case 'activation':
        needInputs(1);
        out = ins[0];
        break;
      case 'add':
        needInputs(2);
        if (ins[0].join() !== ins[1].join()) throw irError(ir, node, `adds [${ins[0]}] and [${ins[1]}]`);
        out = ins[0];
        break;
      case 'mul': {
        needInputs(2);
        const [a, b] = ins;
        const ok =
          a.join() === b.join() ||
          (a.length === 3 && b.length === 3 && b[0] === 1 && b[1] === 1 && b[2] === a[2]);
        if (!ok) throw irError(ir, node, `multiplies [${a}] by [${b}]`);
        out = a;
        break;
      }
      case 'globalAvgPool':
        needInputs(1);
        needRank3();
        out = node.keepDims ? [1, 1, ins[0][2]] : [ins[0][2]];
        break;
      case 'maxPool': {
        needInputs(1);
        needRank3();
        const [h, w, c] = ins[0];
        const size = node.poolSize;
        const strides = node.strides;
        const pairOk = (p: unknown) =>
          Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 1);
        if (!pairOk(size) || !pairOk(strides))
          throw irError(
            ir,
            node,
            `poolSize [${size}] and strides [${strides}] must be two positive integers`,
          );
        if (node.padding !== 'same' && node.padding !== 'valid')
          throw irError(ir, node, `padding '${node.padding as string}' is not 'same' or 'valid'`);
        const oh = convOutSize(h, size[0], strides[0], node.padding);
        const ow = convOutSize(w, size[1], strides[1], node.padding);
        if (oh < 1 || ow < 1)
          throw irError(ir, node, `input [${ins[0]}] is too small for a ${size[0]}×${size[1]} window`);
        out = [oh, ow, c];
        break;
      }
      case 'concat': {
        if (ins.length < 2) throw irError(ir, node, `expects at least 2 inputs, has ${ins.length}`);
        const r = ins[0].length;
        if (r !== 1 && r !== 3)
          throw irError(ir, node, `concatenates [${ins[0]}]: expects [H, W, C] or [C] inputs`);
        const same = (s: number[]) =>
          s.length === r && s.slice(0, r - 1).join() === ins[0].slice(0, r - 1).join();
        const bad = ins.find((s) => !same(s));
        if (bad)
          throw irError(
            ir,
            node,
            `concatenates [${ins.map((s) => `[${s}]`).join(', ')}]: only the last axis may differ`,
          );
        out = [...ins[0].slice(0, r - 1), ins.reduce((a, s) => a + s[r - 1], 0)];
        break;
      }
      case 'upsample': {
        needInputs(1);
        needRank3();
        const scale = node.scale;
        if (!Array.isArray(scale) || scale.length !== 2 || !scale.every((v) => Number.isInteger(v) && v >= 1))
          throw irError(ir, node, `scale [${scale}] must be two integers ≥ 1`);
        if (node.mode !== 'nearest' && node.mode !== 'bilinear')
          throw irError(ir, node, `mode '${node.mode as string}' is not 'nearest' or 'bilinear'`);
        const [h, w, c] = ins[0];
        out = [h * scale[0], w * scale[1], c];
        break;
      }
      case 'dense': {
        needInputs(1);
        if (ins[0].length !== 1) throw irError(ir, node, `expects a [C] input, got [${ins[0]}]`);
        checkTensor(ir, node, 'weight', node.weight, [ins[0][0], -1]);
        if (node.bias) checkTensor(ir, node, 'bias', node.bias, [node.weight.shape[1]]);
        out = [node.weight.shape[1]];
        break;
      }
      default:
        throw irError(ir, node, `unknown op '${(node as { op: string }).op}'`);
    }
    shapes.set(node.name, out);
  });
  if (!shapes.has(ir.output)) throw irError(ir, undefined, `output '${ir.output}' is not a node`);
  if (ir.outputs !== undefined) {
    if (!Array.isArray(ir.outputs) || ir.outputs.length === 0)
      throw irError(ir, undefined, 'outputs must list at least one node');
    const seen = new Set<string>();
    for (const o of ir.outputs) {
      if (!shapes.has(o)) throw irError(ir, undefined, `output '${o}' is not a node`);
      if (seen.has(o)) throw irError(ir, undefined, `output '${o}' is listed twice`);
      seen.add(o);
    }
    if (ir.outputs[0] !== ir.output)
      throw irError(ir, undefined, `output '${ir.output}' is not outputs[0] ('${ir.outputs[0]}')`);
  }
  return shapes;
}

/**
 * Validates an IR (see {@link inferShapes}); returns it for chaining. In the single-output form the output
 * must be the `[numClasses]` logits; with `outputs`, outputs may have any shape.
 */
export function validateModelIR(ir: ModelIR): ModelIR {
  const shapes = inferShapes(ir);
  if (ir.outputs !== undefined) return ir;
  const out = shapes.get(ir.output)!;
  if (out.length !== 1 || out[0] !== ir.numClasses) {
    throw irError(ir, undefined, `output has shape [${out}], expected [${ir.numClasses}] logits`);
  }
  return ir;
}

/** Finds a node by name or throws. */
export function getNode(ir: ModelIR, name: string): IRNode {
  const n = ir.nodes.find((x) => x.name === name);
  if (!n) throw irError(ir, undefined, `no node named '${name}'`);
  return n;
}
