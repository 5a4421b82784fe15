import {
  foldBatchNorm,
  inferShapes,
  modelOutputs,
  type IRNode,
  type IRTensor,
  type ModelIR,
  type UpsampleNode,
} from '@netaug/core';
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
 * GlobalAveragePooling2D (+ Reshape to `[1, 1, C]` for keepDims), MaxPooling2D, Dense, Concatenate (last axis)
 * and UpSampling2D (nearest) for the `upsample` op. Input `[null, H, W, C]` (NHWC); one model output per IR output.
 *
 * Bilinear upsampling: tfjs-layers has no half-pixel bilinear layer (UpSampling2D's bilinear calls
 * `resizeBilinear` with `halfPixelCenters: false`, i.e. `align_corners=False` without half-pixel centers, and
 * Resizing uses `alignCorners: true`), so it is composed from layers with the same function: edge replication by
 * one pixel (Cropping2D + Concatenate), UpSampling2D nearest, a fixed DepthwiseConv2D (VALID, the outer product of
 * the 1-D filters below) and a Cropping2D. Along an axis of factor `s`, half-pixel bilinear equals nearest `×s`
 * followed by the filter `[1/s, …, 1/s]` (`s` taps) for odd `s` and `[1/(2s), 1/s, …, 1/s, 1/(2s)]` (`s + 1`
 * taps) for even `s`, on the edge-replicated signal.
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
    // tfjs-layers (4.22) counts a layer once among a tensor's readers but once per inbound slot when it frees
    // tensors after use: a layer reading the same tensor twice (mul(x, x), concat(x, x)) frees it while later
    // layers still need it. Repeated inputs therefore go through an identity Reshape (a new tensor on the same data).
    const x = n.inputs.map((i, k) =>
      n.inputs.indexOf(i) === k
        ? layerOf.get(i)!
        : layer('Reshape', `${n.name}_input${k}`, [layerOf.get(i)!], { target_shape: shapes.get(i) }),
    );
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
      case 'concat':
        out = layer('Concatenate', n.name, x, { axis: -1 });
        break;
      case 'upsample':
        out =
          n.mode === 'nearest'
            ? layer('UpSampling2D', n.name, x, {
                size: [...n.scale],
                data_format: 'channels_last',
                interpolation: 'nearest',
              })
            : bilinearLayers(n, x[0], shapes.get(n.inputs[0])!, layer, weight);
        break;
    }
    layerOf.set(n.name, out);
  }
  const outputs = modelOutputs(ir);

  const inputLayer = layerOf.get(ir.nodes[0].name)!;
  const modelTopology = {
    class_name: 'Model',
    config: {
      name: ir.name.replace(/[^A-Za-z0-9_.-]/g, '_'),
      layers,
      input_layers: [[inputLayer, 0, 0]],
      output_layers: outputs.map((o) => [layerOf.get(o)!, 0, 0]),
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
      netaug:
        ir.outputs === undefined
          ? { name: ir.name, inputShape: ir.inputShape, numClasses: ir.numClasses, layout: 'NHWC' }
          : {
              name: ir.name,
              inputShape: ir.inputShape,
              numClasses: ir.numClasses,
              layout: 'NHWC',
              outputs: ir.outputs,
            },
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

/** The 1-D filter that turns nearest `×s` upsampling into half-pixel bilinear (`2⌊s/2⌋ + 1` taps). */
export function bilinearFilter(s: number): Float64Array {
  const a = Math.floor(s / 2);
  const h = new Float64Array(2 * a + 1).fill(1 / s);
  if (s % 2 === 0) h[0] = h[2 * a] = 1 / (2 * s);
  return h;
}

/**
 * Half-pixel bilinear upsampling from tfjs-layers layers (see {@link buildTfjsArtifacts}): replicate the border
 * pixel on each side of every upsampled axis, UpSampling2D nearest, a fixed depthwise filter (VALID), then crop
 * `s − ⌊s/2⌋` on each side (back to `H·sh × W·sw`).
 */
function bilinearLayers(
  n: UpsampleNode,
  x: string,
  inShape: number[],
  layer: (cls: string, name: string, inputs: string[], config: Record<string, unknown>) => string,
  weight: (layerName: string, w: string, t: IRTensor) => void,
): string {
  const [h, w, c] = inShape;
  const [sh, sw] = n.scale;
  const crop = (name: string, input: string, cropping: number[][]) =>
    layer('Cropping2D', name, [input], { cropping, data_format: 'channels_last' });
  let y = x;
  if (sh > 1) {
    const top = crop(`${n.name}_edge_top`, y, [
      [0, h - 1],
      [0, 0],
    ]);
    const bottom = crop(`${n.name}_edge_bottom`, y, [
      [h - 1, 0],
      [0, 0],
    ]);
    y = layer('Concatenate', `${n.name}_pad_h`, [top, y, bottom], { axis: 1 });
  }
  if (sw > 1) {
    const left = crop(`${n.name}_edge_left`, y, [
      [0, 0],
      [0, w - 1],
    ]);
    const right = crop(`${n.name}_edge_right`, y, [
      [0, 0],
      [w - 1, 0],
    ]);
    y = layer('Concatenate', `${n.name}_pad_w`, [left, y, right], { axis: 2 });
  }
  y = layer('UpSampling2D', `${n.name}_nearest`, [y], {
    size: [sh, sw],
    data_format: 'channels_last',
    interpolation: 'nearest',
  });
  const fh = sh > 1 ? bilinearFilter(sh) : Float64Array.of(1);
  const fw = sw > 1 ? bilinearFilter(sw) : Float64Array.of(1);
  const kernel = new Float32Array(fh.length * fw.length * c);
  for (let i = 0; i < fh.length; i++)
    for (let j = 0; j < fw.length; j++)
      kernel.fill(fh[i] * fw[j], (i * fw.length + j) * c, (i * fw.length + j + 1) * c);
  y = layer('DepthwiseConv2D', `${n.name}_filter`, [y], {
    kernel_size: [fh.length, fw.length],
    strides: [1, 1],
    padding: 'valid',
    depth_multiplier: 1,
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'linear',
    use_bias: false,
  });
  weight(y, 'depthwise_kernel', { shape: [fh.length, fw.length, c, 1], data: kernel });
  const ch = sh > 1 ? sh - Math.floor(sh / 2) : 0;
  const cw = sw > 1 ? sw - Math.floor(sw / 2) : 0;
  return crop(n.name, y, [
    [ch, ch],
    [cw, cw],
  ]);
}
