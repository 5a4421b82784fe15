import {
  NetAugError,
  inferShapes,
  samePadding,
  validateModelIR,
  type BatchNormNode,
  type IRNode,
  type IRTensor,
  type MaxPoolNode,
  type ModelIR,
} from '@netaug/core';
import { onnx, type OnnxTypes } from './proto';
import { OnnxGraph, attrFloat, attrInt, attrInts, attrString, attrs, num, type ConstTensor } from './graph';

/** Options of {@link importOnnx}. */
export interface OnnxImportOptions {
  /**
   * Keep the target's classifier (its last `dense` node) instead of importing the ONNX model's: for weights
   * trained on other classes. The ONNX classifier (any number of classes) is then skipped, or may be absent
   * (a feature extractor). Default false: the classifier is imported, with the ONNX model's number of
   * classes.
   */
  newHead?: boolean;
  /**
   * Import convolutions whose padding computes something else than the target's at the target's input size —
   * typically PyTorch's symmetric `padding=1` on a stride-2 layer with an even-sized input, where TensorFlow
   * SAME (the IR's padding) pads only after. The weights are the same; those layers' outputs shift by a pixel
   * until fine-tuning adapts. Default false: refused, naming the first such node.
   */
  allowPaddingMismatch?: boolean;
}

/** What {@link importOnnx} returns. */
export interface OnnxImportResult {
  /** The target's nodes, names and structure with the ONNX model's weights. */
  ir: ModelIR;
  /** At least one batch norm of the target had no BatchNormalization in the ONNX model (folded into its conv). */
  bnFolded: boolean;
  /** What the import changed or could not check, one sentence each (folded BN, padding, activations…). */
  notes: string[];
}

/** One weighted layer of the ONNX graph, in graph order. */
type OnnxLayer =
  | {
      kind: 'conv';
      index: number;
      node: OnnxTypes.INodeProto;
      /** OIHW. */
      weight: ConstTensor;
      bias?: ConstTensor;
      group: number;
      strides: [number, number];
      dilations: number[];
      autoPad: string;
      /** `[top, left, bottom, right]` of the Conv plus a constant zero `Pad` right before it. */
      pads: [number, number, number, number];
      /** The Pad node folded into `pads`, if any. */
      padNode?: number;
      input: string;
      output: string;
    }
  | {
      kind: 'bn';
      index: number;
      node: OnnxTypes.INodeProto;
      scale: ConstTensor;
      bias: ConstTensor;
      mean: ConstTensor;
      variance: ConstTensor;
      epsilon: number;
      training: boolean;
      input: string;
      output: string;
    }
  | {
      kind: 'dense';
      index: number;
      node: OnnxTypes.INodeProto;
      /** `[in, out]`, as the IR (alpha of a Gemm applied). */
      weight: Float32Array;
      nIn: number;
      nOut: number;
      /** `[out]` (beta of a Gemm applied). */
      bias?: Float32Array;
      /** As written in the file, for messages: e.g. `Gemm, B [10,448] with transB`. */
      layout: string;
      input: string;
      output: string;
    }
  | {
      /** An op the IR cannot hold (weights of another kind, run-time pads…): refused when the matching reaches it. */
      kind: 'unsupported';
      index: number;
      node: OnnxTypes.INodeProto;
      error: NetAugError;
    };

type WeightedIR = Extract<IRNode, { op: 'conv2d' | 'depthwiseConv2d' | 'batchNorm' | 'dense' }>;

const ARCH_HINT =
  'the ONNX model must have the architecture of the target: the same zoo model, width multiplier, input form (smallInput) and layers; weighted layers are matched in graph order';

/** Ops whose float constant inputs are parameters of the op, never weights the IR would need. */
const PARAM_OPS = new Set([
  'Pad',
  'Resize',
  'Upsample',
  'Clip',
  'Reshape',
  'Expand',
  'Tile',
  'Slice',
  'ConstantOfShape',
]);

const PADDING_HINT = (h: number, w: number) =>
  `the IR pads as TensorFlow SAME (the odd pixel after); PyTorch pads stride-2 layers symmetrically, which differs on even sizes — use an input size that is odd at every stride-2 layer (here the layer sees ${h}×${w}), pad with nn.ZeroPad2d as SAME does, or pass allowPaddingMismatch: true (netaug train: --allow-padding-mismatch) to import anyway (outputs shift by a pixel at these layers until fine-tuned)`;

const fmt = (dims: readonly number[]) => `[${dims.join(',')}]`;
const f32 = (t: ConstTensor) => Float32Array.from(t.data);

/**
 * Imports the weights of an ONNX model onto the architecture of `target` — a ModelIR of the tiny model they
 * must fit, e.g. `supernet.extract()` at `min` of a zoo model. For weights trained elsewhere (PyTorch → ONNX)
 * or exported by this package ({@link buildOnnx}).
 *
 * Weighted ONNX operators — `Conv` (depthwise when `group` equals the channels), `BatchNormalization`,
 * `Gemm`, `MatMul` (+ `Add` of a constant bias), a 1×1 `Conv` for a dense layer — are matched with the
 * target's weighted nodes (conv2d, depthwiseConv2d, batchNorm, dense) **by structure**, one after the other
 * in graph order, never by name: PyTorch's names are not the IR's. Each pair is checked (kind, weight shape,
 * group, strides, dilations, and the padding at the target's input size, a zero `Pad` right before a Conv
 * included) and converted to the IR's layouts: OIHW → HWIO, depthwise `[C, 1, kh, kw]` → `[kh, kw, C, 1]`,
 * Gemm `B` (`transB` or not, `alpha`, `beta`) → `[in, out]`. Batch-norm ε differing from the target's is
 * absorbed exactly in the variance; a conv bias before a batch norm goes into its mean.
 *
 * **Folded batch norm.** An eval-mode export (PyTorch's default constant folding, and this package's default
 * `foldBN`) has no BatchNormalization: each Conv carries the folded scale and a bias. Where the target has a
 * batch norm after the conv and the ONNX graph none, the conv weights are imported as they are and the batch
 * norm becomes the identity carrying the bias — gamma 1, beta = the conv bias, running mean 0, running
 * variance 1 − ε with the target's ε — so `(x − 0)/√(1 − ε + ε) + b = x + b` exactly; `bnFolded` is set and a
 * note asks to re-estimate the BN statistics. (Putting the bias on the conv instead would change the target's
 * structure: its convs before a batch norm have no bias, and a supernet has no variable for one;
 * `conv(x) + b` followed by an identity BN and `conv(x)` followed by an identity BN with beta `b` are the same
 * function.)
 *
 * Activations, residual adds, global pooling and the input layout carry no weights and are not matched;
 * differences in activations or in the number of residual adds are reported in `notes` (outputs then differ
 * until fine-tuned). Max pools are checked in order like convolutions: window, strides and padding.
 *
 * @param bytes an ONNX model (protobuf), all tensors inside the file.
 * @param target the architecture the weights must fit; not modified.
 * @throws NetAugError `SHAPE_MISMATCH` naming the first ONNX node that does not fit (its name and op
 *   type), the target node it was matched with and both shapes — a layer of another width, a missing or extra
 *   layer, other strides or padding; `UNSUPPORTED_OP` for a weighted op the IR cannot hold (or a Pad with
 *   run-time pads); `DATA_FORMAT` for bytes that are not an ONNX model.
 */
export function importOnnx(
  bytes: Uint8Array,
  target: ModelIR,
  opts: OnnxImportOptions = {},
): OnnxImportResult {
  if (!ArrayBuffer.isView(bytes)) {
    throw new NetAugError('INVALID_ARGUMENT', 'importOnnx: bytes must be a Uint8Array (the .onnx file)', {
      hint: 'pass fs.readFileSync(file) or the bytes of buildOnnx()',
    });
  }
  const shapes = inferShapes(target);
  const model = decodeModel(bytes);
  const g = new OnnxGraph(model.graph!);
  const layers = collectLayers(g);
  const notes: string[] = [];

  const weighted = target.nodes.filter(
    (n): n is WeightedIR =>
      n.op === 'conv2d' || n.op === 'depthwiseConv2d' || n.op === 'batchNorm' || n.op === 'dense',
  );
  const denses = target.nodes.filter((n) => n.op === 'dense');
  const classifier = denses.length ? denses[denses.length - 1].name : undefined;
  const replaced = new Map<string, IRNode>();
  const folded: string[] = [];
  const paddingMismatches: string[] = [];
  let numClasses = target.numClasses;
  let j = 0;
  let lastPair: { onnx: OnnxLayer; target: WeightedIR } | undefined;

  const describe = (o: { index: number; node: OnnxTypes.INodeProto }) =>
    `'${g.nodeName(o.index)}' (${o.node.opType})`;
  const misfitAt = (index: number, t: { name: string; op: string }, what: string, hint = ARCH_HINT) =>
    new NetAugError(
      'SHAPE_MISMATCH',
      `ONNX node ${describe({ index, node: g.nodes[index] })} does not fit target node '${t.name}' (${t.op}): ${what}`,
      {
        hint,
        details: {
          onnxNode: g.nodeName(index),
          onnxOp: g.nodes[index].opType,
          targetNode: t.name,
          targetOp: t.op,
        },
      },
    );
  // max pools carry no weights but their padding matters; a misfit is reported when it is the first in graph order
  const poolError = checkMaxPools(
    g,
    target,
    shapes,
    misfitAt,
    !!opts.allowPaddingMismatch,
    paddingMismatches,
    notes,
  );
  /** The error to throw for a misfit at ONNX node `index`: an earlier max-pool misfit wins. */
  const first = (e: NetAugError, index: number) =>
    poolError && poolError.index < index ? poolError.error : e;
  const misfit = (o: OnnxLayer, t: WeightedIR, what: string, hint = ARCH_HINT) =>
    first(misfitAt(o.index, t, what, hint), o.index);

  for (let i = 0; i < weighted.length; i++) {
    const t = weighted[i];
    const next = weighted[i + 1];
    const bnAfter = next && next.op === 'batchNorm' && next.inputs[0] === t.name ? next : undefined;
    const o = layers[j];
    if (o?.kind === 'unsupported') throw first(o.error, o.index);

    if (t.name === classifier && opts.newHead) {
      // the target's classifier stays; the ONNX one (any number of classes), if present, is skipped
      if (o?.kind === 'dense' || (o?.kind === 'conv' && isPointwise(o))) {
        const nIn = o.kind === 'dense' ? o.nIn : o.weight.dims[1];
        if (t.op === 'dense' && nIn !== t.weight.shape[0])
          throw misfit(o, t, `the classifier takes ${nIn} features, the target's ${t.weight.shape[0]}`);
        j++;
        notes.push(
          `newHead: the ONNX classifier ${describe(o)} was not imported; '${t.name}' keeps the target's weights.`,
        );
      } else {
        notes.push(`newHead: '${t.name}' keeps the target's weights (the ONNX model has no classifier).`);
      }
      replaced.set(t.name, copyNode(t));
      continue;
    }

    if (!o) {
      const last = lastPair
        ? `its last weighted node ${describe(lastPair.onnx)} fitted '${lastPair.target.name}'`
        : 'it has no weighted node';
      throw first(
        new NetAugError(
          'SHAPE_MISMATCH',
          `the ONNX model has no layer for target node '${t.name}' (${t.op}, ${expectedOf(t)})${
            weighted.length - i > 1 ? ` and ${weighted.length - i - 1} more` : ''
          }: ${last}`,
          {
            hint: ARCH_HINT,
            details: {
              onnxNode: lastPair ? g.nodeName(lastPair.onnx.index) : undefined,
              targetNode: t.name,
              targetOp: t.op,
            },
          },
        ),
        g.nodes.length,
      );
    }

    if (t.op === 'batchNorm') {
      if (o.kind !== 'bn')
        throw misfit(
          o,
          t,
          `a ${o.node.opType} (${shapeOf(o)}) where the target has a batch norm (${expectedOf(t)})`,
        );
      replaced.set(t.name, fitBatchNorm(o, t, undefined, misfit, notes));
      lastPair = { onnx: o, target: t };
      j++;
      continue;
    }

    // conv2d, depthwiseConv2d or dense: the weights, and the bias the ONNX layer carries
    let bias: ConstTensor | Float32Array | undefined;
    let node: IRNode;
    if (t.op === 'dense') {
      const d = asDense(o, t, misfit);
      const [nIn, nOut] = t.weight.shape;
      const isClassifier = t.name === classifier;
      if (d.nIn !== nIn || (d.nOut !== nOut && !isClassifier))
        throw misfit(
          o,
          t,
          `weight ${fmt([d.nIn, d.nOut])} ([in, out]; ${d.layout}), expected ${fmt([nIn, nOut])}`,
        );
      if (d.nOut !== nOut) {
        if (t.name !== target.output || bnAfter)
          throw misfit(
            o,
            t,
            `weight ${fmt([d.nIn, d.nOut])} ([in, out]; ${d.layout}), expected ${fmt([nIn, nOut])}`,
          );
        numClasses = d.nOut;
        notes.push(
          `the ONNX classifier ${describe(o)} has ${d.nOut} classes, the target ${nOut}: the imported model has ${d.nOut} (pass newHead to keep the target's classifier).`,
        );
      }
      node = {
        ...t,
        inputs: [...t.inputs],
        weight: { shape: [d.nIn, d.nOut], data: d.weight },
        bias: undefined,
      };
      bias = d.bias;
    } else {
      if (o.kind !== 'conv')
        throw misfit(
          o,
          t,
          `a ${o.node.opType} (${shapeOf(o)}) where the target has a convolution (${expectedOf(t)})`,
        );
      const [kh, kw, cin, cout0] = t.weight.shape;
      const dw = t.op === 'depthwiseConv2d';
      const cout = dw ? cin : cout0;
      const want = dw ? [cin, 1, kh, kw] : [cout, cin, kh, kw];
      const wantGroup = dw ? cin : 1;
      if (o.weight.dims.length !== 4 || o.weight.dims.some((d, k) => d !== want[k]))
        throw misfit(
          o,
          t,
          `weight ${fmt(o.weight.dims)}, expected ${fmt(want)} (OIHW${dw ? ', depthwise' : ''})`,
        );
      if (o.group !== wantGroup)
        throw misfit(o, t, `group ${o.group}, expected ${wantGroup}${dw ? ' (depthwise)' : ''}`);
      if (o.strides[0] !== t.strides[0] || o.strides[1] !== t.strides[1])
        throw misfit(o, t, `strides ${fmt(o.strides)}, expected ${fmt(t.strides)}`);
      if (o.dilations.some((d) => d !== 1))
        throw misfit(o, t, `dilations ${fmt(o.dilations)}, the IR has no dilated convolutions`);
      if (o.bias && (o.bias.dims.length !== 1 || o.bias.dims[0] !== cout))
        throw misfit(o, t, `bias ${fmt(o.bias.dims)}, expected [${cout}]`);
      const [ih, iw] = shapes.get(t.inputs[0])!;
      const [oh, ow] = shapes.get(t.name)!;
      const pad = comparePadding(o, t.padding, [ih, iw], [kh, kw], t.strides, [oh, ow]);
      if (pad) {
        const what = `padding ${pad.onnx} at the target's ${ih}×${iw} input, the target's ${pad.target}`;
        if (!opts.allowPaddingMismatch) {
          throw misfit(o, t, what, PADDING_HINT(ih, iw));
        }
        paddingMismatches.push(`${describe(o)} → '${t.name}': ${what}`);
      }
      node = {
        ...t,
        inputs: [...t.inputs],
        strides: [...t.strides],
        weight: { shape: [...t.weight.shape], data: oihwToHwio(o.weight.data, kh, kw, dw ? 1 : cin, cout) },
        bias: undefined,
      };
      bias = o.bias;
    }
    lastPair = { onnx: o, target: t };
    j++;
    const biasData = bias && 'dims' in bias ? f32(bias) : bias;
    const nOut =
      node.op === 'dense'
        ? node.weight.shape[1]
        : node.op === 'conv2d'
          ? node.weight.shape[3]
          : node.weight.shape[2];

    if (bnAfter) {
      const o2 = layers[j];
      // a target conv with both a bias and a batch norm keeps its bias; otherwise the bias moves into the BN
      const conv = node as { bias?: IRTensor };
      let intoBn = biasData;
      if (t.bias) {
        conv.bias = { shape: [nOut], data: biasData ?? new Float32Array(nOut) };
        intoBn = undefined;
      }
      if (o2?.kind === 'bn' && o2.input === o.output) {
        replaced.set(bnAfter.name, fitBatchNorm(o2, bnAfter, intoBn, misfit, notes));
        lastPair = { onnx: o2, target: bnAfter };
        j++;
      } else {
        replaced.set(bnAfter.name, identityBatchNorm(bnAfter, intoBn));
        folded.push(bnAfter.name);
      }
      replaced.set(t.name, node);
      i++;
      continue;
    }
    if (t.bias) {
      (node as { bias?: IRTensor }).bias = { shape: [nOut], data: biasData ?? new Float32Array(nOut) };
    } else if (biasData && biasData.some((v) => v !== 0)) {
      throw misfit(
        o,
        t,
        `it has a bias, the target's ${t.op} has none and no batch norm after it to carry it`,
      );
    }
    replaced.set(t.name, node);
  }

  if (j < layers.length) {
    const o = layers[j];
    if (o.kind === 'unsupported') throw first(o.error, o.index);
    throw first(
      new NetAugError(
        'SHAPE_MISMATCH',
        `ONNX node '${g.nodeName(o.index)}' (${o.node.opType}, ${shapeOf(o)}) has no counterpart in the target: ${
          lastPair
            ? `its weighted nodes end with '${lastPair.target.name}', fitted by ${describe(lastPair.onnx)}`
            : 'it has no weighted node'
        }${layers.length - j > 1 ? ` (${layers.length - j - 1} more ONNX layers follow)` : ''}`,
        { hint: ARCH_HINT, details: { onnxNode: g.nodeName(o.index), onnxOp: o.node.opType } },
      ),
      o.index,
    );
  }
  if (poolError) throw poolError.error;

  // notes on what was converted or not checked
  const nBn = weighted.filter((n) => n.op === 'batchNorm').length;
  if (folded.length) {
    notes.push(
      `BatchNormalization was folded into the convolutions of this ONNX model (an eval-mode export): ${folded.length} of ${nBn} batch norms are imported as the identity carrying the conv bias (gamma 1, beta = bias, running mean 0, running variance 1 − ε): inference computes exactly what the ONNX model computes, but these statistics are placeholders, not your data's — re-estimate the BN statistics on your data before training.`,
    );
  }
  if (paddingMismatches.length) {
    notes.push(
      `allowPaddingMismatch: ${paddingMismatches.length} convolution(s) / max pool(s) pad otherwise than the target (TensorFlow SAME) and their outputs shift by a pixel until fine-tuned; first: ${paddingMismatches[0]}.`,
    );
  }
  notes.push(...structureNotes(g, target, layers));
  const producer = model.producerName
    ? `${model.producerName} ${model.producerVersion ?? ''}`.trim()
    : undefined;

  const ir: ModelIR = {
    ...target,
    inputShape: [...target.inputShape],
    numClasses,
    nodes: target.nodes.map((n) => replaced.get(n.name) ?? copyNode(n)),
    metadata: {
      ...(target.metadata ?? {}),
      importedFrom: 'onnx',
      ...(producer ? { onnxProducer: producer } : {}),
      bnFolded: folded.length > 0,
    },
  };
  validateModelIR(ir);
  return { ir, bnFolded: folded.length > 0, notes };
}

function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  let model: OnnxTypes.ModelProto;
  try {
    // a view in this realm's Uint8Array (protobufjs checks instanceof; a Buffer from another realm fails it)
    model = onnx.ModelProto.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new NetAugError(
      'DATA_FORMAT',
      `importOnnx: the bytes are not an ONNX model (${(e as Error).message})`,
      {
        hint: 'pass the contents of a .onnx file',
        cause: e,
      },
    );
  }
  if (!model.graph || !(model.graph.node ?? []).length) {
    throw new NetAugError('DATA_FORMAT', 'importOnnx: the ONNX model has no graph', {
      hint: 'pass the contents of a .onnx file',
    });
  }
  return model;
}

/** The weighted layers of the graph in graph order; refuses ops with weights the IR cannot hold. */
function collectLayers(g: OnnxGraph): OnnxLayer[] {
  const layers: OnnxLayer[] = [];
  const biasAdds = new Set<OnnxTypes.INodeProto>();
  const unsupported = (i: number, what: string, hint: string) =>
    new NetAugError('UNSUPPORTED_OP', `ONNX node '${g.nodeName(i)}' (${g.nodes[i].opType}) ${what}`, {
      hint,
      details: { onnxNode: g.nodeName(i), onnxOp: g.nodes[i].opType },
    });
  const needConst = (i: number, k: number, what: string) => {
    const v = g.constant(g.nodes[i].input?.[k]);
    if (!v || v.int)
      throw unsupported(
        i,
        `has a ${what} that is not a constant float tensor`,
        'export the model with its weights as initializers',
      );
    return v;
  };
  g.nodes.forEach((node, index) => {
    try {
      visit(node, index);
    } catch (e) {
      // refused where the matching reaches it, so that the first node in graph order that does not fit is named
      if (!(e instanceof NetAugError) || e.code !== 'UNSUPPORTED_OP') throw e;
      layers.push({ kind: 'unsupported', index, node, error: e });
    }
  });
  return layers;

  function visit(node: OnnxTypes.INodeProto, index: number): void {
    const a = attrs(node);
    const ins = node.input ?? [];
    const output = node.output?.[0] ?? '';
    if (g.constant(output)) return; // a constant sub-graph (shape arithmetic, weights via Identity…)
    switch (node.opType) {
      case 'Conv': {
        const weight = needConst(index, 1, 'weight');
        const bias = ins[2] ? needConst(index, 2, 'bias') : undefined;
        if (weight.dims.length !== 4)
          throw unsupported(
            index,
            `has a ${weight.dims.length - 2}-D kernel ${fmt(weight.dims)}`,
            'the IR holds 2-D convolutions only',
          );
        const pads = attrInts(a, 'pads') ?? [0, 0, 0, 0];
        const layer: Extract<OnnxLayer, { kind: 'conv' }> = {
          kind: 'conv',
          index,
          node,
          weight,
          bias,
          group: attrInt(a, 'group', 1),
          strides: (attrInts(a, 'strides') ?? [1, 1]) as [number, number],
          dilations: attrInts(a, 'dilations') ?? [1, 1],
          autoPad: attrString(a, 'auto_pad', 'NOTSET'),
          pads: [pads[0], pads[1], pads[2], pads[3]],
          input: ins[0],
          output,
        };
        foldPad(g, layer, unsupported);
        layers.push(layer);
        return;
      }
      case 'BatchNormalization': {
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((k) =>
          needConst(index, k, ['scale', 'bias', 'mean', 'variance'][k - 1]),
        );
        layers.push({
          kind: 'bn',
          index,
          node,
          scale,
          bias,
          mean,
          variance,
          epsilon: attrFloat(a, 'epsilon', 1e-5),
          training: attrInt(a, 'training_mode', 0) === 1 || (node.output ?? []).filter(Boolean).length > 1,
          input: ins[0],
          output,
        });
        return;
      }
      case 'Gemm': {
        const b = needConst(index, 1, 'B (weight)');
        if (attrInt(a, 'transA', 0) !== 0)
          throw unsupported(
            index,
            'has transA = 1',
            'the IR computes x·W; export the layer as a plain Linear',
          );
        if (b.dims.length !== 2)
          throw unsupported(index, `has a weight of rank ${b.dims.length}`, 'expected a 2-D weight');
        const transB = attrInt(a, 'transB', 0) === 1;
        const [nIn, nOut] = transB ? [b.dims[1], b.dims[0]] : b.dims;
        const alpha = attrFloat(a, 'alpha', 1);
        const beta = attrFloat(a, 'beta', 1);
        const weight = new Float32Array(nIn * nOut);
        for (let r = 0; r < nIn; r++)
          for (let c = 0; c < nOut; c++)
            weight[r * nOut + c] = alpha * b.data[transB ? c * nIn + r : r * nOut + c];
        const c = ins[2] ? needConst(index, 2, 'C (bias)') : undefined;
        let bias: Float32Array | undefined;
        if (c) {
          if (c.data.length !== nOut && c.data.length !== 1)
            throw unsupported(
              index,
              `has a bias C ${fmt(c.dims)} for ${nOut} outputs`,
              'expected a bias of one value per output',
            );
          bias = Float32Array.from({ length: nOut }, (_, k) => beta * c.data[c.data.length === 1 ? 0 : k]);
        }
        layers.push({
          kind: 'dense',
          index,
          node,
          weight,
          nIn,
          nOut,
          bias,
          layout: `B ${fmt(b.dims)}${transB ? ' with transB' : ''}`,
          input: ins[0],
          output,
        });
        return;
      }
      case 'MatMul': {
        const b = g.constant(ins[1]);
        if (!b) break; // a product of two activations: no weights (checked below)
        if (b.int || b.dims.length !== 2)
          throw unsupported(
            index,
            `multiplies by a constant ${fmt(b.dims)}`,
            'the IR holds 2-D dense weights only',
          );
        const [nIn, nOut] = b.dims;
        // a following Add of a constant [out] vector is the bias (PyTorch's Linear on inputs of rank > 2)
        const users = g.consumersOf(output);
        const add = users.length === 1 && users[0].opType === 'Add' ? users[0] : undefined;
        const other = add ? (add.input?.[0] === output ? add.input?.[1] : add.input?.[0]) : undefined;
        const c = other ? g.constant(other) : undefined;
        let bias: Float32Array | undefined;
        if (add && c && !c.int && c.data.length === nOut) {
          biasAdds.add(add);
          bias = Float32Array.from(c.data);
        }
        layers.push({
          kind: 'dense',
          index,
          node,
          weight: Float32Array.from(b.data),
          nIn,
          nOut,
          bias,
          layout: `MatMul ${fmt(b.dims)}${bias ? ' + Add' : ''}`,
          input: ins[0],
          output: bias ? (add!.output?.[0] ?? output) : output,
        });
        return;
      }
    }
    if (biasAdds.has(node) || PARAM_OPS.has(node.opType ?? '')) return;
    // any other op with a float constant of more than one value holds weights the IR cannot represent
    ins.forEach((x) => {
      const c = g.constant(x);
      if (c && !c.int && c.data.length > 1) {
        throw unsupported(
          index,
          `holds weights (a constant ${fmt(c.dims)} input '${x}') that the IR has no node for`,
          'the IR holds Conv (incl. depthwise), BatchNormalization and Gemm / MatMul weights; remove preprocessing (e.g. mean/std normalisation) from the graph and apply it to the data',
        );
      }
    });
  }
}

/** Adds the pads of a constant zero `Pad` right before the conv (PyTorch's nn.ZeroPad2d / F.pad). */
function foldPad(
  g: OnnxGraph,
  layer: Extract<OnnxLayer, { kind: 'conv' }>,
  unsupported: (i: number, what: string, hint: string) => NetAugError,
): void {
  const pad = g.producerOf(layer.input);
  if (pad?.opType !== 'Pad') return;
  const i = g.producer.get(layer.input)!;
  const a = attrs(pad);
  const ins = pad.input ?? [];
  const mode = attrString(a, 'mode', 'constant');
  const pads = ins[1] ? g.constant(ins[1]) : undefined;
  const raw = pads ? [...pads.data] : (attrInts(a, 'pads') ?? attrInts(a, 'paddings'));
  if (!raw) {
    throw unsupported(
      i,
      'computes its pads at run time',
      'simplify the model first (e.g. python -m onnxsim) so that the pads are constant',
    );
  }
  const value = ins[2] ? g.constant(ins[2]) : undefined;
  const fill = value ? value.data[0] : attrFloat(a, 'value', 0);
  // pads of the given axes (opset 18 `axes`), else of all 4: [x1_begin, x2_begin, …, x1_end, x2_end, …]
  const axesT = ins[3] ? g.constant(ins[3]) : undefined;
  const axes = axesT ? [...axesT.data].map((ax) => (ax + 4) % 4) : [0, 1, 2, 3];
  const full = new Array<number>(8).fill(0);
  axes.forEach((ax, k) => {
    full[ax] = raw[k];
    full[ax + 4] = raw[k + axes.length];
  });
  if (
    mode !== 'constant' ||
    fill !== 0 ||
    full[0] ||
    full[1] ||
    full[4] ||
    full[5] ||
    full.some((p) => p < 0)
  ) {
    throw unsupported(
      i,
      `pads ${mode === 'constant' ? `with ${fill}` : `in mode '${mode}'`}, pads ${fmt(full)} before Conv '${g.nodeName(layer.index)}'`,
      'the IR pads convolutions with zeros over height and width only',
    );
  }
  layer.pads = [
    layer.pads[0] + full[2],
    layer.pads[1] + full[3],
    layer.pads[2] + full[6],
    layer.pads[3] + full[7],
  ];
  layer.padNode = i;
}

/** The padding-related attributes of a Conv or MaxPool (a Pad before a Conv folded into `pads`). */
interface PaddedOp {
  autoPad: string;
  /** `[top, left, bottom, right]`. */
  pads: number[];
  strides: number[];
  padNode?: number;
  /** MaxPool `ceil_mode`. */
  ceil?: boolean;
}

/**
 * Checks the ONNX MaxPool nodes against the target's maxPool nodes, in order: window, strides and padding at
 * the target's sizes. Returns the first misfit (thrown by the caller when it is the first in graph order);
 * with `allowPadding`, padding differences become notes. Different counts are a note (no weights depend on
 * them).
 */
function checkMaxPools(
  g: OnnxGraph,
  target: ModelIR,
  shapes: Map<string, number[]>,
  misfitAt: (index: number, t: { name: string; op: string }, what: string, hint?: string) => NetAugError,
  allowPadding: boolean,
  paddingMismatches: string[],
  notes: string[],
): { index: number; error: NetAugError } | undefined {
  const theirs = g.nodes.map((n, index) => ({ n, index })).filter(({ n }) => n.opType === 'MaxPool');
  const ours = target.nodes.filter((n): n is MaxPoolNode => n.op === 'maxPool');
  if (theirs.length !== ours.length) {
    if (theirs.length || ours.length)
      notes.push(
        `the ONNX model has ${theirs.length} MaxPool node(s), the target ${ours.length} max pool(s): outputs differ until fine-tuned.`,
      );
    return undefined;
  }
  for (let k = 0; k < ours.length; k++) {
    const { n, index } = theirs[k];
    const t = ours[k];
    const a = attrs(n);
    const kernel = attrInts(a, 'kernel_shape') ?? [];
    const strides = attrInts(a, 'strides') ?? [1, 1];
    const fail = (what: string, hint?: string) => ({ index, error: misfitAt(index, t, what, hint) });
    if (kernel.join() !== t.poolSize.join())
      return fail(`window ${fmt(kernel)}, expected ${fmt(t.poolSize)}`);
    if (strides.join() !== t.strides.join())
      return fail(`strides ${fmt(strides)}, expected ${fmt(t.strides)}`);
    if ((attrInts(a, 'dilations') ?? [1, 1]).some((d) => d !== 1))
      return fail('dilated pooling, the IR has none');
    const [ih, iw] = shapes.get(t.inputs[0])!;
    const [oh, ow] = shapes.get(t.name)!;
    const pads = attrInts(a, 'pads') ?? [0, 0, 0, 0];
    const op: PaddedOp = {
      autoPad: attrString(a, 'auto_pad', 'NOTSET'),
      pads,
      strides,
      ceil: attrInt(a, 'ceil_mode', 0) === 1,
    };
    const pad = comparePadding(op, t.padding, [ih, iw], [kernel[0], kernel[1]], t.strides, [oh, ow]);
    if (!pad) continue;
    const what = `padding ${pad.onnx} at the target's ${ih}×${iw} input, the target's ${pad.target}`;
    if (!allowPadding) return fail(what, PADDING_HINT(ih, iw));
    paddingMismatches.push(`'${g.nodeName(index)}' (MaxPool) → '${t.name}': ${what}`);
  }
  return undefined;
}

/**
 * Compares the conv's padding with the target's at the target's input size: two paddings compute the same
 * when they pad the same before and give the same output size (padding after that no window reaches does not
 * matter). Returns a description of both when they differ.
 */
function comparePadding(
  o: PaddedOp,
  padding: 'same' | 'valid',
  inSize: [number, number],
  kernel: [number, number],
  strides: [number, number],
  outSize: [number, number],
): { onnx: string; target: string } | undefined {
  const ours = [0, 1].map((ax) =>
    padding === 'same' ? samePadding(inSize[ax], kernel[ax], strides[ax]) : { before: 0, after: 0 },
  );
  const theirs = [0, 1].map((ax) => {
    const [inp, k, s] = [inSize[ax], kernel[ax], o.strides[ax]];
    if (o.autoPad === 'VALID') return { before: 0, after: 0 };
    if (o.autoPad === 'SAME_UPPER' || o.autoPad === 'SAME_LOWER') {
      const total = Math.max((Math.ceil(inp / s) - 1) * s + k - inp, 0);
      const small = Math.floor(total / 2);
      const before = o.autoPad === 'SAME_UPPER' ? small : total - small;
      return { before: before + o.pads[ax], after: total - before + o.pads[ax + 2] };
    }
    return { before: o.pads[ax], after: o.pads[ax + 2] };
  });
  const same = [0, 1].every((ax) => {
    const p = theirs[ax];
    const span = (inSize[ax] + p.before + p.after - kernel[ax]) / o.strides[ax];
    const out = (o.ceil ? Math.ceil(span) : Math.floor(span)) + 1;
    return p.before === ours[ax].before && out === outSize[ax];
  });
  if (same) return undefined;
  const desc = (p: { before: number; after: number }[]) =>
    `[top ${p[0].before}, left ${p[1].before}, bottom ${p[0].after}, right ${p[1].after}]`;
  const via = o.padNode !== undefined ? ' (Pad + Conv)' : o.autoPad !== 'NOTSET' ? ` (${o.autoPad})` : '';
  return { onnx: `${desc(theirs)}${via}`, target: `${padding.toUpperCase()} ${desc(ours)}` };
}

/** A dense-shaped view of an ONNX layer for a target dense node (Gemm, MatMul, or a 1×1 Conv after pooling). */
function asDense(
  o: OnnxLayer,
  t: WeightedIR,
  misfit: (o: OnnxLayer, t: WeightedIR, what: string) => NetAugError,
): Extract<OnnxLayer, { kind: 'dense' }> {
  if (o.kind === 'dense') return o;
  if (o.kind === 'conv' && isPointwise(o)) {
    const [nOut, nIn] = o.weight.dims;
    const weight = new Float32Array(nIn * nOut);
    for (let r = 0; r < nIn; r++)
      for (let c = 0; c < nOut; c++) weight[r * nOut + c] = o.weight.data[c * nIn + r];
    return {
      kind: 'dense',
      index: o.index,
      node: o.node,
      weight,
      nIn,
      nOut,
      bias: o.bias && f32(o.bias),
      layout: `Conv 1×1 ${fmt(o.weight.dims)}`,
      input: o.input,
      output: o.output,
    };
  }
  throw misfit(
    o,
    t,
    `a ${o.node.opType} (${shapeOf(o)}) where the target has a dense layer (${expectedOf(t)})`,
  );
}

/** A 1×1, stride 1, ungrouped, unpadded conv: a dense layer on a pooled `[N, C, 1, 1]` map. */
function isPointwise(o: Extract<OnnxLayer, { kind: 'conv' }>): boolean {
  const [, , kh, kw] = o.weight.dims;
  return (
    kh === 1 && kw === 1 && o.group === 1 && o.strides.every((s) => s === 1) && o.pads.every((p) => p === 0)
  );
}

/**
 * A target batch norm from an ONNX BatchNormalization. A different ε is absorbed exactly in the variance
 * (`var + ε_onnx − ε_target`); `convBias` (a conv bias before the BN) goes into the mean: BN(x + b) with mean
 * m is BN(x) with mean m − b.
 */
function fitBatchNorm(
  o: Extract<OnnxLayer, { kind: 'bn' }>,
  t: BatchNormNode,
  convBias: Float32Array | undefined,
  misfit: (o: OnnxLayer, t: WeightedIR, what: string) => NetAugError,
  notes: string[],
): BatchNormNode {
  const c = t.gamma.shape[0];
  for (const [k, v] of [
    ['scale', o.scale],
    ['bias', o.bias],
    ['mean', o.mean],
    ['variance', o.variance],
  ] as const) {
    if (v.data.length !== c) throw misfit(o, t, `${k} ${fmt(v.dims)}, expected [${c}] (channels)`);
  }
  let clamped = false;
  const variance = Float32Array.from(o.variance.data, (v) => {
    const w = v + o.epsilon - t.epsilon;
    if (w < 0) clamped = true;
    return Math.max(w, 0);
  });
  if (clamped)
    notes.push(
      `'${t.name}': the ONNX ε ${o.epsilon} is below the target's ${t.epsilon} and some running variances are smaller than the difference; they were set to 0 (outputs differ slightly there).`,
    );
  if (o.training)
    notes.push(
      `'${t.name}': the ONNX BatchNormalization was exported in training mode (batch statistics); its running statistics were imported.`,
    );
  const mean = Float32Array.from(o.mean.data, (m, k) => m - (convBias ? convBias[k] : 0));
  return {
    ...t,
    inputs: [...t.inputs],
    gamma: { shape: [c], data: f32(o.scale) },
    beta: { shape: [c], data: f32(o.bias) },
    mean: { shape: [c], data: mean },
    variance: { shape: [c], data: variance },
  };
}

/**
 * A target batch norm whose BatchNormalization was folded into the conv before it: the identity plus the
 * conv's bias — gamma 1, beta b, mean 0, variance 1 − ε, so that y = (x − 0)/√(1 − ε + ε) + b = x + b.
 */
function identityBatchNorm(t: BatchNormNode, bias: Float32Array | undefined): BatchNormNode {
  const c = t.gamma.shape[0];
  return {
    ...t,
    inputs: [...t.inputs],
    gamma: { shape: [c], data: new Float32Array(c).fill(1) },
    beta: { shape: [c], data: bias ? Float32Array.from(bias) : new Float32Array(c) },
    mean: { shape: [c], data: new Float32Array(c) },
    variance: { shape: [c], data: new Float32Array(c).fill(1 - t.epsilon) },
  };
}

/** OIHW `[cout, cin, kh, kw]` → HWIO `[kh, kw, cin, cout]` (depthwise: cin = 1, cout = C gives `[kh, kw, C, 1]`'s order). */
function oihwToHwio(w: Float64Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          out[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x];
  return out;
}

/** A deep copy of a node (tensors included), so the result shares no buffer with the target. */
function copyNode(n: IRNode): IRNode {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) {
    if (v && typeof v === 'object' && 'data' in v && 'shape' in v) {
      const t = v as IRTensor;
      out[k] = { shape: [...t.shape], data: t.data.slice() };
    } else out[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
  }
  return out as unknown as IRNode;
}

/** What an ONNX layer holds, for messages. */
function shapeOf(o: OnnxLayer): string {
  if (o.kind === 'conv') return `weight ${fmt(o.weight.dims)}, group ${o.group}, strides ${fmt(o.strides)}`;
  if (o.kind === 'bn') return `${o.scale.data.length} channels`;
  if (o.kind === 'unsupported') return 'not importable';
  return `${o.layout}: ${o.nIn} → ${o.nOut}`;
}

/** What a target node expects, in ONNX terms, for messages. */
function expectedOf(t: WeightedIR): string {
  switch (t.op) {
    case 'conv2d': {
      const [kh, kw, cin, cout] = t.weight.shape;
      return `weight ${fmt([cout, cin, kh, kw])} OIHW, strides ${fmt(t.strides)}`;
    }
    case 'depthwiseConv2d': {
      const [kh, kw, c] = t.weight.shape;
      return `weight ${fmt([c, 1, kh, kw])} OIHW, group ${c}, strides ${fmt(t.strides)}`;
    }
    case 'batchNorm':
      return `${t.gamma.shape[0]} channels`;
    case 'dense':
      return `${t.weight.shape[0]} → ${t.weight.shape[1]}`;
  }
}

/** Activation kinds of the ONNX graph in order (HardSigmoid·x and Sigmoid·x recognised as hswish / swish). */
function onnxActivations(g: OnnxGraph): { kind: string; node: string }[] {
  const acts: { kind: string; node: string }[] = [];
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  const gated = (i: number) => {
    const n = g.nodes[i];
    const x = n.input?.[0];
    return g
      .consumersOf(n.output?.[0] ?? '')
      .some((m) => m.opType === 'Mul' && (m.input ?? []).includes(x ?? ''));
  };
  g.nodes.forEach((n, i) => {
    if (g.constant(n.output?.[0])) return;
    const a = attrs(n);
    let kind: string | undefined;
    switch (n.opType) {
      case 'Relu':
        kind = 'relu';
        break;
      case 'Clip': {
        const lo = n.input?.[1]
          ? g.constant(n.input[1])?.data[0]
          : a.has('min')
            ? attrFloat(a, 'min', 0)
            : undefined;
        const hi = n.input?.[2]
          ? g.constant(n.input[2])?.data[0]
          : a.has('max')
            ? attrFloat(a, 'max', 0)
            : undefined;
        kind = lo === 0 && hi === 6 ? 'relu6' : lo === 0 && hi === undefined ? 'relu' : `clip(${lo}, ${hi})`;
        break;
      }
      case 'HardSigmoid': {
        const alpha = attrFloat(a, 'alpha', 0.2);
        const beta = attrFloat(a, 'beta', 0.5);
        const std = near(alpha, 1 / 6) && near(beta, 0.5);
        kind = gated(i) && std ? 'hswish' : std ? 'hsigmoid' : `hardsigmoid(${alpha}, ${beta})`;
        break;
      }
      case 'HardSwish':
        kind = 'hswish';
        break;
      case 'Sigmoid':
        kind = gated(i) ? 'swish' : 'sigmoid';
        break;
      case 'LeakyRelu':
      case 'Elu':
      case 'Selu':
      case 'Tanh':
      case 'Softplus':
      case 'Gelu':
      case 'Mish':
        kind = n.opType.toLowerCase();
        break;
    }
    if (kind) acts.push({ kind, node: `'${g.nodeName(i)}' (${n.opType})` });
  });
  return acts;
}

/** Notes on what carries no weights: activations, residual adds, a final softmax, the input size. */
function structureNotes(g: OnnxGraph, target: ModelIR, layers: OnnxLayer[]): string[] {
  const notes: string[] = [];
  const theirs = onnxActivations(g);
  const ours = target.nodes.filter((n) => n.op === 'activation');
  const k = ours.findIndex((n, i) => theirs[i]?.kind !== n.activation);
  if (k >= 0 || theirs.length !== ours.length) {
    const at = k >= 0 ? k : ours.length;
    const o = theirs[at];
    const t = ours[at];
    notes.push(
      `activations differ (${theirs.length} in the ONNX model, ${ours.length} in the target): the first difference is ${
        o ? `ONNX ${o.node} = ${o.kind}` : 'no ONNX activation'
      } where the target has ${t ? `'${t.name}' = ${t.activation}` : 'none'}; the imported weights compute another function until fine-tuned.`,
    );
  }
  const used = new Set(layers.map((l) => ('output' in l ? l.output : '')));
  const adds = g.nodes.filter(
    (n) =>
      n.opType === 'Add' &&
      !used.has(n.output?.[0] ?? '') &&
      (n.input ?? []).length === 2 &&
      (n.input ?? []).every((x) => !g.constant(x)),
  ).length;
  const ourAdds = target.nodes.filter((n) => n.op === 'add').length;
  if (adds !== ourAdds)
    notes.push(
      `the ONNX model has ${adds} residual additions, the target ${ourAdds}: shortcuts differ and outputs will too until fine-tuned.`,
    );
  const last = g.producerOf(g.graph.output?.[0]?.name ?? '');
  if (last && (last.opType === 'Softmax' || last.opType === 'LogSoftmax'))
    notes.push(`the ONNX model ends with ${last.opType}; the imported model outputs the logits before it.`);
  const inits = new Set((g.graph.initializer ?? []).map((t) => t.name));
  const input = (g.graph.input ?? []).find((v) => !inits.has(v.name));
  const dims = (input?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue != null ? num(d.dimValue) : 0,
  );
  const [h, w, c] = target.inputShape;
  if (dims.length === 4) {
    const hw = dims[1] === c ? [dims[2], dims[3]] : dims[3] === c ? [dims[1], dims[2]] : undefined;
    if (hw && hw[0] > 0 && hw[1] > 0 && (hw[0] !== h || hw[1] !== w))
      notes.push(
        `the ONNX model was exported for ${hw[0]}×${hw[1]} inputs, the target takes ${h}×${w}: the weights do not depend on it; padding was checked at ${h}×${w}.`,
      );
  }
  return notes;
}
