/**
 * Lowers a ModelIR to a graph of TFLite builtin operators in float32 semantics (shared by the float32 and
 * the int8 exporters). Batch norms are folded into the preceding conv / depthwise / dense when possible and
 * otherwise become MUL + ADD; relu / relu6 after a conv, depthwise or dense are fused into it.
 */
import { foldBatchNorm, inferShapes, modelOutputs, type IRNode, type ModelIR } from '@netaug/core';
import type { BuiltinOperatorName, FusedActivation } from './schema';
import type { TflOptions } from './schema-writer';
import { assertSupported } from '../support';

/** Float range of an activation tensor, looked up from calibration by IR node name. */
export type RangeOf = (irNode: string) => [number, number];

/** A tensor of the lowered graph (shapes include the batch dimension 1). */
export interface LTensor {
  name: string;
  shape: number[];
  /**
   * `activation`: computed at run time; `weight`: conv / depthwise / FC filter (per-channel int8);
   * `bias`: int32 in int8 models; `const`: other float constants (per-tensor int8); `int32`: index data.
   */
  kind: 'activation' | 'weight' | 'bias' | 'const' | 'int32';
  data?: Float32Array | Int32Array;
  /** Axis of the output channel of a weight (per-channel quantization). */
  channelDim?: number;
  /** How to get this activation's float range from the calibration ranges of IR nodes. */
  range?: (rangeOf: RangeOf) => [number, number];
  /** Quantization the int8 kernel requires for this tensor (LOGISTIC output). */
  fixedQuant?: { scale: number; zeroPoint: number };
}

/** An operator of the lowered graph. */
export interface LOp {
  op: BuiltinOperatorName;
  inputs: number[];
  outputs: number[];
  options?: TflOptions;
  /** IR node this operator comes from (for messages). */
  node: string;
  /** Lowest kernel version the options need (RESIZE_BILINEAR with half-pixel centers: 3). */
  minVersion?: number;
}

/** The lowered graph: one float input and one output tensor per IR output. */
export interface LoweredGraph {
  name: string;
  tensors: LTensor[];
  ops: LOp[];
  input: number;
  /** The first output (`outputs[0]`). */
  output: number;
  /** One tensor per IR output, in the order of `ir.outputs` (or the single `ir.output`). */
  outputs: number[];
}

const withBatch = (s: number[]) => [1, ...s];

/** Lowers `ir` (validated here) to TFLite builtin operators. */
export function lowerToTflite(irIn: ModelIR, format: 'tflite' | 'tflite-int8'): LoweredGraph {
  assertSupported(irIn, format);
  const ir = foldBatchNorm(irIn);
  const shapes = inferShapes(ir);
  const consumers = new Map<string, IRNode[]>();
  for (const n of ir.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outputs = modelOutputs(ir);
  const isOutput = new Set(outputs);

  const tensors: LTensor[] = [];
  const ops: LOp[] = [];
  const tensorOf = new Map<string, number>();
  const absorbed = new Set<string>();
  const add = (t: LTensor) => tensors.push(t) - 1;
  const act = (name: string, shape: number[], rangeNode: string, scale = 1): number =>
    add({
      name,
      shape,
      kind: 'activation',
      range: (r) => {
        const [lo, hi] = r(rangeNode);
        return [lo * scale, hi * scale];
      },
    });
  const scalar = (name: string, v: number) =>
    add({ name, shape: [1], kind: 'const', data: Float32Array.of(v) });

  /** relu / relu6 that can be fused into `node` (its only consumer, not the graph output). */
  const fusable = (node: IRNode): { act: FusedActivation; out: IRNode } | undefined => {
    const cs = consumers.get(node.name) ?? [];
    if (isOutput.has(node.name) || cs.length !== 1) return undefined;
    const c = cs[0];
    if (c.op !== 'activation' || (c.activation !== 'relu' && c.activation !== 'relu6')) return undefined;
    return { act: c.activation === 'relu' ? 'RELU' : 'RELU6', out: c };
  };

  for (const node of ir.nodes) {
    if (absorbed.has(node.name)) continue;
    const outShape = withBatch(shapes.get(node.name)!);
    const x = node.inputs.map((i) => tensorOf.get(i)!);
    switch (node.op) {
      case 'input':
        tensorOf.set(node.name, act(node.name, outShape, node.name));
        break;
      case 'conv2d':
      case 'depthwiseConv2d':
      case 'dense': {
        const fused = fusable(node);
        if (fused) absorbed.add(fused.out.name);
        const outNode = fused?.out ?? node;
        let weight: LTensor;
        let nOut: number;
        if (node.op === 'conv2d') {
          const [kh, kw, cin, cout] = node.weight.shape;
          weight = {
            name: `${node.name}/filter`,
            shape: [cout, kh, kw, cin],
            kind: 'weight',
            channelDim: 0,
            data: hwioToOhwi(node.weight.data, kh, kw, cin, cout),
          };
          nOut = cout;
        } else if (node.op === 'depthwiseConv2d') {
          const [kh, kw, c] = node.weight.shape;
          // [kh, kw, C, 1] and [1, kh, kw, C] have the same memory order
          weight = {
            name: `${node.name}/filter`,
            shape: [1, kh, kw, c],
            kind: 'weight',
            channelDim: 3,
            data: node.weight.data,
          };
          nOut = c;
        } else {
          const [nin, nout] = node.weight.shape;
          weight = {
            name: `${node.name}/weights`,
            shape: [nout, nin],
            kind: 'weight',
            channelDim: 0,
            data: transpose2d(node.weight.data, nin, nout),
          };
          nOut = nout;
        }
        const w = add(weight);
        const b = add({
          name: `${node.name}/bias`,
          shape: [nOut],
          kind: 'bias',
          data: node.bias ? node.bias.data : new Float32Array(nOut),
        });
        const y = act(outNode.name, outShape, outNode.name);
        const activation = fused?.act ?? 'NONE';
        let options: TflOptions;
        if (node.op === 'dense') {
          options = { kind: 'FullyConnectedOptions', activation };
        } else {
          const padding = node.padding === 'same' ? 'SAME' : 'VALID';
          const [strideH, strideW] = node.strides;
          options =
            node.op === 'conv2d'
              ? { kind: 'Conv2DOptions', padding, strideH, strideW, activation }
              : { kind: 'DepthwiseConv2DOptions', padding, strideH, strideW, depthMultiplier: 1, activation };
        }
        const op =
          node.op === 'conv2d'
            ? 'CONV_2D'
            : node.op === 'depthwiseConv2d'
              ? 'DEPTHWISE_CONV_2D'
              : 'FULLY_CONNECTED';
        ops.push({ op, inputs: [x[0], w, b], outputs: [y], options, node: node.name });
        tensorOf.set(outNode.name, y);
        break;
      }
      case 'batchNorm': {
        // not foldable: y = x·s + t with per-channel constants
        const c = node.gamma.data.length;
        const s = new Float32Array(c);
        const t = new Float32Array(c);
        for (let i = 0; i < c; i++) {
          s[i] = node.gamma.data[i] / Math.sqrt(node.variance.data[i] + node.epsilon);
          t[i] = node.beta.data[i] - node.mean.data[i] * s[i];
        }
        const sT = add({ name: `${node.name}/scale`, shape: [c], kind: 'const', data: s });
        const tT = add({ name: `${node.name}/shift`, shape: [c], kind: 'const', data: t });
        const inNode = node.inputs[0];
        const mid = add({
          name: `${node.name}/scaled`,
          shape: outShape,
          kind: 'activation',
          range: (r) => {
            // bound of x·s over all channels from the per-tensor range of x
            const [lo, hi] = r(inNode);
            let a = 0;
            let z = 0;
            for (const v of s) {
              a = Math.min(a, lo * v, hi * v);
              z = Math.max(z, lo * v, hi * v);
            }
            return [a, z];
          },
        });
        const y = act(node.name, outShape, node.name);
        ops.push({
          op: 'MUL',
          inputs: [x[0], sT],
          outputs: [mid],
          options: { kind: 'MulOptions', activation: 'NONE' },
          node: node.name,
        });
        ops.push({
          op: 'ADD',
          inputs: [mid, tT],
          outputs: [y],
          options: { kind: 'AddOptions', activation: 'NONE' },
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'activation': {
        if (node.activation === 'hsigmoid') {
          // relu6(x + 3) / 6 as ADD (fused RELU6) and MUL
          const three = scalar(`${node.name}/three`, 3);
          const sixth = scalar(`${node.name}/one_sixth`, 1 / 6);
          const mid = act(`${node.name}/relu6`, outShape, node.name, 6);
          const y = act(node.name, outShape, node.name);
          ops.push({
            op: 'ADD',
            inputs: [x[0], three],
            outputs: [mid],
            options: { kind: 'AddOptions', activation: 'RELU6' },
            node: node.name,
          });
          ops.push({
            op: 'MUL',
            inputs: [mid, sixth],
            outputs: [y],
            options: { kind: 'MulOptions', activation: 'NONE' },
            node: node.name,
          });
          tensorOf.set(node.name, y);
          break;
        }
        const y = act(node.name, outShape, node.name);
        if (node.activation === 'sigmoid') tensors[y].fixedQuant = { scale: 1 / 256, zeroPoint: -128 };
        const op: BuiltinOperatorName =
          node.activation === 'relu'
            ? 'RELU'
            : node.activation === 'relu6'
              ? 'RELU6'
              : node.activation === 'hswish'
                ? 'HARD_SWISH'
                : 'LOGISTIC';
        ops.push({
          op,
          inputs: [x[0]],
          outputs: [y],
          options: op === 'HARD_SWISH' ? { kind: 'HardSwishOptions' } : undefined,
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'add':
      case 'mul': {
        const y = act(node.name, outShape, node.name);
        const options: TflOptions =
          node.op === 'add'
            ? { kind: 'AddOptions', activation: 'NONE' }
            : { kind: 'MulOptions', activation: 'NONE' };
        ops.push({
          op: node.op === 'add' ? 'ADD' : 'MUL',
          inputs: [x[0], x[1]],
          outputs: [y],
          options,
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'maxPool': {
        // int8: MAX_POOL_2D requires the output to share the input's quantization (max commutes with it)
        const inT = tensors[x[0]];
        const y = add({
          name: node.name,
          shape: outShape,
          kind: 'activation',
          range: inT.range,
          fixedQuant: inT.fixedQuant,
        });
        ops.push({
          op: 'MAX_POOL_2D',
          inputs: [x[0]],
          outputs: [y],
          options: {
            kind: 'Pool2DOptions',
            padding: node.padding === 'same' ? 'SAME' : 'VALID',
            strideH: node.strides[0],
            strideW: node.strides[1],
            filterH: node.poolSize[0],
            filterW: node.poolSize[1],
            activation: 'NONE',
          },
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'concat': {
        // int8: CONCATENATION needs every input at the output's quantization; the exporter requantizes the
        // inputs that differ (see int8Model)
        const y = act(node.name, outShape, node.name);
        ops.push({
          op: 'CONCATENATION',
          inputs: x,
          outputs: [y],
          options: { kind: 'ConcatenationOptions', axis: outShape.length - 1, activation: 'NONE' },
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'upsample': {
        // int8: the resize kernels keep the input's quantization (nearest copies values, bilinear interpolates
        // the int8 values with weights summing to 1)
        const inT = tensors[x[0]];
        const size = add({
          name: `${node.name}/size`,
          shape: [2],
          kind: 'int32',
          data: Int32Array.of(outShape[1], outShape[2]),
        });
        const y = add({
          name: node.name,
          shape: outShape,
          kind: 'activation',
          range: inT.range,
          fixedQuant: inT.fixedQuant,
        });
        const nearest = node.mode === 'nearest';
        ops.push({
          op: nearest ? 'RESIZE_NEAREST_NEIGHBOR' : 'RESIZE_BILINEAR',
          inputs: [x[0], size],
          outputs: [y],
          options: nearest
            ? { kind: 'ResizeNearestNeighborOptions', alignCorners: false, halfPixelCenters: false }
            : { kind: 'ResizeBilinearOptions', alignCorners: false, halfPixelCenters: true },
          node: node.name,
          minVersion: nearest ? undefined : 3,
        });
        tensorOf.set(node.name, y);
        break;
      }
      case 'globalAvgPool': {
        const axes = add({ name: `${node.name}/axes`, shape: [2], kind: 'int32', data: Int32Array.of(1, 2) });
        const y = act(node.name, outShape, node.name);
        ops.push({
          op: 'MEAN',
          inputs: [x[0], axes],
          outputs: [y],
          options: { kind: 'ReducerOptions', keepDims: node.keepDims },
          node: node.name,
        });
        tensorOf.set(node.name, y);
        break;
      }
    }
  }
  return {
    name: ir.name,
    tensors,
    ops,
    input: tensorOf.get(ir.nodes[0].name)!,
    output: tensorOf.get(outputs[0])!,
    outputs: outputs.map((o) => tensorOf.get(o)!),
  };
}

function hwioToOhwi(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * kh + y) * kw + x) * cin + i] = w[((y * kw + x) * cin + i) * cout + o];
  return out;
}

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}
