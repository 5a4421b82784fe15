/**
 * The quantization plan of a full-integer int8 export: activation ranges from calibration, and per layer
 * whether the weights get one scale per output channel or one for the whole tensor.
 */
import { NetAugError, foldBatchNorm, type ModelIR } from '@netaug/core';
import { runModelIR } from '../reference/run-model-ir';
import { fakeQuantRun } from './fake-quant';
import { lowerToTflite } from './lower';
import {
  activationQuantParams,
  calibrate,
  chooseWeightGranularity,
  measureWeightNoise,
  type CalibrationRanges,
  type WeightGranularity,
} from './quantize';

/** How the int8 exporter picks the weight quantization granularity of conv / depthwise layers. */
export interface WeightGranularityOptions {
  /**
   * `'auto'` (default): per layer, per-channel scales unless a single per-tensor scale adds no more than
   * `perTensorTolerance` to the layer's output noise power in every channel, measured on calibration images
   * (see {@link chooseWeightGranularity}). `'per-channel'`: per-channel scales for every conv and depthwise layer.
   * Fully-connected layers always use one scale (widest runtime support, TFLite-Micro included).
   */
  weightGranularity?: 'auto' | 'per-channel';
  /**
   * Allowed relative increase of the int8 noise power of any output channel of a layer when its weights get one
   * scale instead of one per channel. Default 0.5 (1.8 dB).
   */
  perTensorTolerance?: number;
  /** Calibration images (the first ones) used to measure the weight rounding noise. Default 64. */
  noiseImages?: number;
}

/** One weight layer of an {@link Int8Plan}. */
export interface Int8LayerPlan {
  /** IR node (conv2d / depthwiseConv2d / dense). */
  node: string;
  op: 'conv2d' | 'depthwiseConv2d' | 'dense';
  channels: number;
  granularity: WeightGranularity;
  /**
   * Largest over output channels of (output noise² + weight noise² per-tensor) / (output noise² + weight noise²
   * per-channel), measured on the calibration images (1 when not measured).
   */
  perTensorNoiseRatio: number;
}

/** Calibration ranges and the per-layer weight granularity the int8 exporter (and `simulateInt8`) use. */
export interface Int8Plan {
  ranges: CalibrationRanges;
  layers: Int8LayerPlan[];
}

/**
 * Mean squared error per output channel of the int8 model (per-channel weights everywhere, fake-quantized) against
 * the float model, at the output of each weight layer in `layers`, over `images`.
 */
function measureInt8Error(
  ir: ModelIR,
  folded: ModelIR,
  images: readonly Float32Array[],
  ranges: CalibrationRanges,
  layers: ReadonlySet<string>,
  batchSize = 8,
): Map<string, Float64Array> {
  const sums = new Map<string, Float64Array>();
  const counts = new Map<string, number>();
  const [h, w, c] = folded.inputShape;
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * h * w * c);
    chunk.forEach((img, i) => batch.set(img, i * h * w * c));
    const reference = new Map<string, { out: Float64Array; channels: number }>();
    runModelIR(folded, batch, chunk.length, {
      onNode: (node, out, shape) => {
        if (layers.has(node.name))
          reference.set(node.name, { out: out.slice(), channels: shape[shape.length - 1] });
      },
    });
    fakeQuantRun(ir, batch, chunk.length, ranges, new Map(), (node, out) => {
      const ref = reference.get(node.name);
      if (!ref) return;
      let s = sums.get(node.name);
      if (!s) sums.set(node.name, (s = new Float64Array(ref.channels)));
      for (let i = 0; i < out.length; i++) s[i % ref.channels] += (out[i] - ref.out[i]) ** 2;
      counts.set(node.name, (counts.get(node.name) ?? 0) + out.length / ref.channels);
    });
  }
  for (const [name, s] of sums) {
    const n = counts.get(name)!;
    for (let i = 0; i < s.length; i++) s[i] /= n;
  }
  return sums;
}

/** Calibrates `ir` and chooses the weight granularity of each layer (see {@link WeightGranularityOptions}). */
export function planInt8(
  ir: ModelIR,
  calibration: readonly Float32Array[],
  options: WeightGranularityOptions & { calibrationBatchSize?: number } = {},
): Int8Plan {
  const ranges = calibrate(ir, calibration, options.calibrationBatchSize);
  const mode = options.weightGranularity ?? 'auto';
  if (mode !== 'auto' && mode !== 'per-channel') {
    throw new NetAugError('INVALID_ARGUMENT', `unknown weightGranularity '${String(mode)}'`, {
      hint: "use 'auto' or 'per-channel'",
    });
  }
  const tolerance = options.perTensorTolerance ?? 0.5;
  const folded = foldBatchNorm(ir);
  const graph = lowerToTflite(ir, 'tflite-int8');
  const rangeOf = (name: string): [number, number] => {
    const r = ranges.get(name);
    if (!r) throw new NetAugError('INTERNAL', `no calibration range for IR node '${name}'`);
    return r;
  };
  const noiseImages = calibration.slice(0, Math.max(1, options.noiseImages ?? 64));
  const noise = mode === 'auto' ? measureWeightNoise(folded, noiseImages) : undefined;
  const floor = noise ? measureInt8Error(ir, folded, noiseImages, ranges, new Set(noise.keys())) : undefined;
  const layers: Int8LayerPlan[] = [];
  for (const op of graph.ops) {
    if (op.op !== 'CONV_2D' && op.op !== 'DEPTHWISE_CONV_2D' && op.op !== 'FULLY_CONNECTED') continue;
    const irOp = op.op === 'CONV_2D' ? 'conv2d' : op.op === 'DEPTHWISE_CONV_2D' ? 'depthwiseConv2d' : 'dense';
    const out = graph.tensors[op.outputs[0]];
    const channels = graph.tensors[op.inputs[2]].shape[0];
    const n = noise?.get(op.node);
    if (irOp === 'dense' || !n) {
      const granularity = irOp === 'dense' ? 'per-tensor' : 'per-channel';
      layers.push({ node: op.node, op: irOp, channels, granularity, perTensorNoiseRatio: 1 });
      continue;
    }
    // what the output channel carries without this layer's weight rounding: the measured int8 error minus the
    // weight part, and at least the rounding of the output tensor (added here when a fused activation, not the
    // conv node, is rounded: the measurement sees the conv node)
    const outScale = out.fixedQuant?.scale ?? activationQuantParams(...out.range!(rangeOf)).scale;
    const q2 = (outScale * outScale) / 12;
    const measured = floor!.get(op.node)!;
    const fused = out.name !== op.node;
    const base = Float64Array.from(measured, (m, c) =>
      Math.max(m + (fused ? q2 : 0) - n.perChannelRms[c] ** 2, q2),
    );
    const c = chooseWeightGranularity(n, base, tolerance);
    layers.push({
      node: op.node,
      op: irOp,
      channels,
      granularity: c.granularity,
      perTensorNoiseRatio: c.worstRatio,
    });
  }
  return { ranges, layers };
}
