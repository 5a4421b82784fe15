import { foldBatchNorm, inferShapes, type IRNode, type IRTensor, type ModelIR } from '@netaug/core';
import { assertSupported } from '../support';
import type { TfjsArtifacts, WeightSpec } from './fs-io-handler';

/** Options of the tfjs export. */
export interface TfjsExportOptions {
  /** Fold batch norms into the preceding conv / dense (default false: keep BatchNormalization layers). */
  foldBN?: boolean;
  /** Maximum bytes per weight shard (default 4 MiB, as tfjs). */
  shardBytes?: number;
}

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

const GENERATED_BY = '@netaug/exporters 0.1.0';

/**
 * Converts a ModelIR to tfjs LayersModel artifacts (a Keras functional-model topology and float32 weights),
 * using only layers tfjs-layers 4.x deserialises: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization,
 * ReLU (max_value 6 for relu6), Activation (sigmoid), Rescaling + ReLU(max_value 1) for hsigmoid
 * (`clip(x/6 + 1/2, 0, 1)`), Multiply for hswish (`x · hsigmoid(x)`) and squeeze-excite gates, Add,
 * GlobalAveragePooling2D (+ Reshape to `[1, 1, C]` for keepDims), MaxPooling2D and Dense. Input `[null, H, W, C]` (NHWC).
 */
export function buildTfjsArtifacts(irIn: ModelIR, options: TfjsExportOptions = {}): TfjsArtifacts {
  assertSupported(irIn, 'tfjs');
  const ir = options.foldBN ? foldBatchNorm(irIn) : irIn;
  const shapes = inferShapes(ir);
  const layers: KerasLayer[] = [];
  const weights: { spec: WeightSpec; data: Float32Array }[] = [];
  const used = new Set<string>();
  const layerOf = new Map<string, string>(); // IR node -> Keras layer producing its value

  const uniqueName = (raw: string): string => {
    const base = raw.replace(/[^A-Za-z0-9_.-]/g, '_') || 'layer';
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const layer = (
    className: string,
    rawName: string,
    inputs: string[],
    config: Record<string, unknown>,
  ): string => {
    const name = uniqueName(rawName);
    layers.push({
      class_name: className,
      config: { name, trainable: true, dtype: 'float32', ...config },
      name,
      inbound_nodes: inputs.length
        ? [inputs.map((i) => [i, 0, 0, {}] as [string, number, number, Record<string, never>])]
        : [],
    });
    return name;
  };
  const weight = (layerName: string, w: string, t: IRTensor) =>
    weights.push({
      spec: { name: `${layerName}/${w}`, shape: [...t.shape], dtype: 'float32' },
      data: t.data,
    });

  for (const n of ir.nodes) {
    const x = n.inputs.map((i) => layerOf.get(i)!);
    let out: string;
    switch (n.op) {
      case 'input':
        out = layer('InputLayer', n.name, [], { batch_input_shape: [null, ...ir.inputShape], sparse: false });
        break;
      case 'conv2d': {
        const [kh, kw, , cout] = n.weight.shape;
        out = layer('Conv2D', n.name, x, {
          filters: cout,
          kernel_size: [kh, kw],
          strides: [...n.strides],
          padding: n.padding,
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: 'linear',
          use_bias: !!n.bias,
        });
        weight(out, 'kernel', n.weight);
        if (n.bias) weight(out, 'bias', n.bias);
        break;
      }
      case 'depthwiseConv2d': {
        const [kh, kw] = n.weight.shape;
        out = layer('DepthwiseConv2D', n.name, x, {
          kernel_size: [kh, kw],
          strides: [...n.strides],
          padding: n.padding,
          depth_multiplier: 1,
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: 'linear',
          use_bias: !!n.bias,
        });
        weight(out, 'depthwise_kernel', n.weight);
        if (n.bias) weight(out, 'bias', n.bias);
        break;
      }
      case 'batchNorm':
        out = layer('BatchNormalization', n.name, x, {
          axis: -1,
          momentum: 0.99,
          epsilon: n.epsilon,
          center: true,
          scale: true,
        });
        weight(out, 'gamma', n.gamma);
        weight(out, 'beta', n.beta);
        weight(out, 'moving_mean', n.mean);
        weight(out, 'moving_variance', n.variance);
        break;
      case 'activation':
        out = activationLayers(n, x[0], layer);
        break;
      case 'add':
        out = layer('Add', n.name, x, {});
        break;
      case 'mul':
        out = layer('Multiply', n.name, x, {});
        break;
      case 'globalAvgPool': {
        const pooled = layer('GlobalAveragePooling2D', n.keepDims ? `${n.name}_pool` : n.name, x, {
          data_format: 'channels_last',
        });
        out = n.keepDims ? layer('Reshape', n.name, [pooled], { target_shape: shapes.get(n.name) }) : pooled;
        break;
      }
      case 'maxPool':
        out = layer('MaxPooling2D', n.name, x, {
          pool_size: [...n.poolSize],
          strides: [...n.strides],
          padding: n.padding,
          data_format: 'channels_last',
        });
        break;
      case 'dense':
        out = layer('Dense', n.name, x, {
          units: n.weight.shape[1],
          activation: 'linear',
          use_bias: !!n.bias,
        });
        weight(out, 'kernel', n.weight);
        if (n.bias) weight(out, 'bias', n.bias);
        break;
    }
    layerOf.set(n.name, out);
  }

  const inputLayer = layerOf.get(ir.nodes[0].name)!;
  const modelTopology = {
    class_name: 'Model',
    config: {
      name: ir.name.replace(/[^A-Za-z0-9_.-]/g, '_'),
      layers,
      input_layers: [[inputLayer, 0, 0]],
      output_layers: [[layerOf.get(ir.output)!, 0, 0]],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const bytes = new Uint8Array(weights.reduce((a, w) => a + w.data.byteLength, 0));
  let o = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), o);
    o += w.data.byteLength;
  }
  return {
    modelTopology,
    weightSpecs: weights.map((w) => w.spec),
    weightData: bytes.buffer,
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
    userDefinedMetadata: {
      netaug: { name: ir.name, inputShape: ir.inputShape, numClasses: ir.numClasses, layout: 'NHWC' },
    },
  };
}

function activationLayers(
  n: Extract<IRNode, { op: 'activation' }>,
  x: string,
  layer: (cls: string, name: string, inputs: string[], config: Record<string, unknown>) => string,
): string {
  const hsigmoid = (name: string) => {
    const lin = layer('Rescaling', `${name}_lin`, [x], { scale: 1 / 6, offset: 0.5 });
    return layer('ReLU', name, [lin], { max_value: 1 });
  };
  switch (n.activation) {
    case 'relu':
      return layer('ReLU', n.name, [x], { max_value: null });
    case 'relu6':
      return layer('ReLU', n.name, [x], { max_value: 6 });
    case 'sigmoid':
      return layer('Activation', n.name, [x], { activation: 'sigmoid' });
    case 'hsigmoid':
      return hsigmoid(n.name);
    case 'hswish': {
      const gate = hsigmoid(`${n.name}_gate`);
      return layer('Multiply', n.name, [x, gate], {});
    }
  }
}
