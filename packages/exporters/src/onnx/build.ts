import {
  NetAugError,
  foldBatchNorm,
  inferShapes,
  modelOutputs,
  samePadding,
  type IRNode,
  type ModelIR,
} from '@netaug/core';
import { onnx, type OnnxTypes } from './proto';
import { assertSupported } from '../support';

/** Options of {@link exportOnnx} / {@link buildOnnx}. */
export interface OnnxExportOptions {
  /** ONNX opset, 13–21. Default 13. From 14 on, hswish is the HardSwish operator, below a HardSigmoid·Mul composition. */
  opset?: number;
  /** Fold batch norms into the preceding conv / dense first (default true). Unfolded ones use BatchNormalization. */
  foldBN?: boolean;
  /**
   * Layout of the model input. `nhwc` (default) takes `[N, H, W, C]` like every other export of this package and
   * the training data, and transposes to NCHW in the graph; `nchw` takes `[N, C, H, W]` directly.
   */
  inputLayout?: 'nhwc' | 'nchw';
  /**
   * Name of the input (default "input") and of the (first) output tensor (default "logits" for a classifier IR,
   * the IR node's name for an IR with `outputs`).
   */
  inputName?: string;
  outputName?: string;
  /**
   * Names of the output tensors of an IR with several outputs, in the order of `ir.outputs` (default: the IR
   * node names; `outputName`, when given, names the first).
   */
  outputNames?: string[];
}

const F = onnx.TensorProto.DataType.FLOAT;
const A = onnx.AttributeProto.AttributeType;

const attrInts = (name: string, ints: number[]): OnnxTypes.IAttributeProto => ({ name, type: A.INTS, ints });
const attrInt = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: A.INT, i });
const attrFloat = (name: string, f: number): OnnxTypes.IAttributeProto => ({ name, type: A.FLOAT, f });
const attrString = (name: string, s: string): OnnxTypes.IAttributeProto => ({
  name,
  type: A.STRING,
  s: new TextEncoder().encode(s),
});

function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTypes.ITensorProto {
  // raw_data is little-endian; copy so the proto does not alias (or outlive) the IR's buffers
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims, dataType: F, rawData: raw };
}

function valueInfo(name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: F,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * Builds an ONNX model (protobuf bytes) from a ModelIR. Layout NCHW inside the graph; convolution weights
 * HWIO → OIHW, depthwise `[kh, kw, C, 1]` → `[C, 1, kh, kw]` with `group = C`; TensorFlow SAME padding becomes
 * explicit (possibly asymmetric) `pads`; `concat` is `Concat` on axis 1 (channels); `upsample` is `Resize` with
 * constant `scales` `[1, 1, sh, sw]` — nearest: `mode=nearest`, `coordinate_transformation_mode=asymmetric`,
 * `nearest_mode=floor`; bilinear: `mode=linear`, `coordinate_transformation_mode=half_pixel`. The batch dimension
 * is symbolic (`N`). Every IR output is a graph output; `[H, W, C]` outputs are `[N, H, W, C]` with the default
 * NHWC input layout (a Transpose back from NCHW) and `[N, C, H, W]` with `inputLayout: 'nchw'`.
 */
export function buildOnnx(irIn: ModelIR, options: OnnxExportOptions = {}): Uint8Array {
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 13 || opset > 21) {
    throw new NetAugError('INVALID_ARGUMENT', `ONNX opset ${opset} is not supported`, {
      hint: 'use an opset from 13 to 21',
    });
  }
  assertSupported(irIn, 'onnx');
  const ir = options.foldBN === false ? irIn : foldBatchNorm(irIn);
  const shapes = inferShapes(ir);
  const inputName = options.inputName ?? 'input';
  const irOutputs = modelOutputs(ir);
  const outputNames = onnxOutputNames(ir, irOutputs, inputName, options);
  const graphOutput = new Map(irOutputs.map((o, i) => [o, outputNames[i]] as const));
  const nodes: OnnxTypes.INodeProto[] = [];
  const inits: OnnxTypes.ITensorProto[] = [];
  const valueOf = new Map<string, string>();
  const node = (
    opType: string,
    input: string[],
    output: string[],
    name: string,
    attribute: OnnxTypes.IAttributeProto[] = [],
  ) => nodes.push({ opType, input, output, name, attribute });
  const [h, w, c] = ir.inputShape;
  const nhwc = (options.inputLayout ?? 'nhwc') === 'nhwc';
  /** A feature-map output that goes back to NHWC through a Transpose after its node. */
  const transposed = (name: string) => nhwc && graphOutput.has(name) && shapes.get(name)!.length === 3;
  /**
   * Tensor name of an IR node's output; an IR output node writes the graph output directly, unless it is
   * transposed back to NHWC (then its NCHW value has a name of its own).
   */
  const out = (n: IRNode) => (transposed(n.name) ? `${n.name}/nchw` : (graphOutput.get(n.name) ?? n.name));
  for (const n of ir.nodes) {
    const x = n.inputs.map((i) => valueOf.get(i)!);
    const y = out(n);
    switch (n.op) {
      case 'input':
        if (nhwc) {
          node('Transpose', [inputName], [`${n.name}/nchw`], `${n.name}/to_nchw`, [
            attrInts('perm', [0, 3, 1, 2]),
          ]);
          valueOf.set(n.name, `${n.name}/nchw`);
        } else {
          valueOf.set(n.name, inputName);
        }
        continue;
      case 'conv2d':
      case 'depthwiseConv2d': {
        const [kh, kw, cin] = n.weight.shape;
        const dw = n.op === 'depthwiseConv2d';
        const cout = dw ? cin : n.weight.shape[3];
        const wName = `${n.name}/weight`;
        inits.push(
          floatTensor(
            wName,
            dw ? [cin, 1, kh, kw] : [cout, cin, kh, kw],
            hwioToOihw(n.weight.data, kh, kw, dw ? 1 : cin, cout),
          ),
        );
        const inputs = [x[0], wName];
        if (n.bias) {
          inits.push(floatTensor(`${n.name}/bias`, [cout], n.bias.data));
          inputs.push(`${n.name}/bias`);
        }
        const [ih, iw] = shapes.get(n.inputs[0])!;
        const ph = n.padding === 'same' ? samePadding(ih, kh, n.strides[0]) : { before: 0, after: 0 };
        const pw = n.padding === 'same' ? samePadding(iw, kw, n.strides[1]) : { before: 0, after: 0 };
        node('Conv', inputs, [y], n.name, [
          attrInts('kernel_shape', [kh, kw]),
          attrInts('strides', [...n.strides]),
          attrInts('pads', [ph.before, pw.before, ph.after, pw.after]),
          attrInts('dilations', [1, 1]),
          attrInt('group', dw ? cin : 1),
        ]);
        break;
      }
      case 'batchNorm': {
        const ch = n.gamma.data.length;
        const names = ['scale', 'bias', 'mean', 'var'].map((k) => `${n.name}/${k}`);
        [n.gamma, n.beta, n.mean, n.variance].forEach((t, i) =>
          inits.push(floatTensor(names[i], [ch], t.data)),
        );
        // channels are axis 1 in NCHW and in the [N, C] output of a pooling without keepDims
        node('BatchNormalization', [x[0], ...names], [y], n.name, [attrFloat('epsilon', n.epsilon)]);
        break;
      }
      case 'activation':
        switch (n.activation) {
          case 'relu':
            node('Relu', [x[0]], [y], n.name);
            break;
          case 'relu6': {
            const lo = `${n.name}/min`;
            const hi = `${n.name}/max`;
            inits.push(floatTensor(lo, [], Float32Array.of(0)), floatTensor(hi, [], Float32Array.of(6)));
            node('Clip', [x[0], lo, hi], [y], n.name);
            break;
          }
          case 'hsigmoid':
            node('HardSigmoid', [x[0]], [y], n.name, [attrFloat('alpha', 1 / 6), attrFloat('beta', 0.5)]);
            break;
          case 'hswish':
            if (opset >= 14) {
              node('HardSwish', [x[0]], [y], n.name);
            } else {
              node('HardSigmoid', [x[0]], [`${n.name}/gate`], `${n.name}/hsigmoid`, [
                attrFloat('alpha', 1 / 6),
                attrFloat('beta', 0.5),
              ]);
              node('Mul', [x[0], `${n.name}/gate`], [y], n.name);
            }
            break;
          case 'sigmoid':
            node('Sigmoid', [x[0]], [y], n.name);
            break;
        }
        break;
      case 'add':
        node('Add', [x[0], x[1]], [y], n.name);
        break;
      case 'mul':
        // NCHW: a [N, C, 1, 1] gate broadcasts over H and W
        node('Mul', [x[0], x[1]], [y], n.name);
        break;
      case 'globalAvgPool':
        if (n.keepDims) {
          node('GlobalAveragePool', [x[0]], [y], n.name);
        } else {
          node('GlobalAveragePool', [x[0]], [`${n.name}/pooled`], `${n.name}/pool`);
          node('Flatten', [`${n.name}/pooled`], [y], n.name, [attrInt('axis', 1)]);
        }
        break;
      case 'maxPool': {
        // TensorFlow SAME as explicit (possibly asymmetric) pads: MaxPool never picks a padded position
        const [ih, iw] = shapes.get(n.inputs[0])!;
        const [kh, kw] = n.poolSize;
        const ph = n.padding === 'same' ? samePadding(ih, kh, n.strides[0]) : { before: 0, after: 0 };
        const pw = n.padding === 'same' ? samePadding(iw, kw, n.strides[1]) : { before: 0, after: 0 };
        node('MaxPool', [x[0]], [y], n.name, [
          attrInts('kernel_shape', [kh, kw]),
          attrInts('strides', [...n.strides]),
          attrInts('pads', [ph.before, pw.before, ph.after, pw.after]),
        ]);
        break;
      }
      case 'dense': {
        const [nin, nout] = n.weight.shape;
        inits.push(floatTensor(`${n.name}/weight`, [nin, nout], n.weight.data));
        const inputs = [x[0], `${n.name}/weight`];
        if (n.bias) {
          inits.push(floatTensor(`${n.name}/bias`, [nout], n.bias.data));
          inputs.push(`${n.name}/bias`);
        }
        node('Gemm', inputs, [y], n.name, [attrInt('transB', 0)]);
        break;
      }
      case 'concat':
        // the last IR axis is the channel axis: 1 in NCHW and in [N, C]
        node('Concat', x, [y], n.name, [attrInt('axis', 1)]);
        break;
      case 'upsample': {
        const scales = `${n.name}/scales`;
        inits.push(floatTensor(scales, [4], Float32Array.of(1, 1, n.scale[0], n.scale[1])));
        const attrs =
          n.mode === 'nearest'
            ? [
                attrString('mode', 'nearest'),
                attrString('coordinate_transformation_mode', 'asymmetric'),
                attrString('nearest_mode', 'floor'),
              ]
            : [attrString('mode', 'linear'), attrString('coordinate_transformation_mode', 'half_pixel')];
        node('Resize', [x[0], '', scales], [y], n.name, attrs);
        break;
      }
    }
    valueOf.set(n.name, y);
    if (transposed(n.name)) {
      node('Transpose', [y], [graphOutput.get(n.name)!], `${n.name}/to_nhwc`, [
        attrInts('perm', [0, 2, 3, 1]),
      ]);
    }
  }

  const outputDims = (name: string): (number | string)[] => {
    const s = shapes.get(name)!;
    if (s.length !== 3) return ['N', ...s];
    return nhwc ? ['N', ...s] : ['N', s[2], s[0], s[1]];
  };
  const single = ir.outputs === undefined;

  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: '@netaug/exporters',
    producerVersion: '0.1.0',
    docString: single
      ? `NetAug.js export of ${ir.name}; input ${nhwc ? 'NHWC' : 'NCHW'} float32, output logits [N, ${ir.numClasses}]`
      : `NetAug.js export of ${ir.name}; input ${nhwc ? 'NHWC' : 'NCHW'} float32, outputs ${irOutputs
          .map((o, i) => `${outputNames[i]} [${outputDims(o).join(', ')}]`)
          .join(', ')}`,
    graph: {
      name: ir.name,
      node: nodes,
      initializer: inits,
      input: [valueInfo(inputName, nhwc ? ['N', h, w, c] : ['N', c, h, w])],
      output: single
        ? [valueInfo(outputNames[0], ['N', ir.numClasses])]
        : irOutputs.map((o, i) => valueInfo(outputNames[i], outputDims(o))),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Graph output names, in the order of the IR outputs (see {@link OnnxExportOptions}); checked for clashes. */
function onnxOutputNames(
  ir: ModelIR,
  irOutputs: string[],
  inputName: string,
  options: OnnxExportOptions,
): string[] {
  const names =
    ir.outputs === undefined
      ? [options.outputName ?? options.outputNames?.[0] ?? 'logits']
      : irOutputs.map(
          (o, i) =>
            (i === 0 ? (options.outputName ?? options.outputNames?.[0]) : options.outputNames?.[i]) ?? o,
        );
  if (options.outputNames && options.outputNames.length !== irOutputs.length) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `outputNames has ${options.outputNames.length} names for ${irOutputs.length} IR outputs`,
      { hint: `name the outputs ${irOutputs.join(', ')} in this order` },
    );
  }
  const others = new Set(ir.nodes.map((n) => n.name).filter((n) => !irOutputs.includes(n)));
  const seen = new Set<string>([inputName]);
  for (const name of names) {
    if (!name || seen.has(name) || others.has(name)) {
      throw new NetAugError('INVALID_ARGUMENT', `ONNX output name '${name}' is empty or already used`, {
        hint: 'give every output a name distinct from the input and from the other nodes',
      });
    }
    seen.add(name);
  }
  return names;
}

/** HWIO `[kh, kw, cin, cout]` → OIHW `[cout, cin, kh, kw]` (depthwise: cin = 1, cout = C). */
function hwioToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = w[((y * kw + x) * cin + i) * cout + o];
  return out;
}
