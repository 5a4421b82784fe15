import { foldBatchNorm, type IRNode, type ModelIR } from '@netaug/core';
import { runModelIROutputs } from '../reference/run-model-ir';
import { lowerToTflite } from './lower';
import {
  activationQuantParams,
  quantizeBias,
  quantizePerChannel,
  quantizePerTensorSymmetric,
  type CalibrationRanges,
  type QuantParams,
  type WeightGranularity,
} from './quantize';

const { round } = Math;

/**
 * The fake-quantized run behind `simulateInt8`, on the BN-folded IR with the given ranges and per-layer weight
 * granularity (missing layers: per-channel; dense: per-tensor). `onNode` sees every node's output after its
 * int8 rounding (if the TFLite graph materialises it). A concat's output is rounded to its own grid, which is
 * what the exporter's requantization of inputs on other grids does; upsampling keeps its input's grid (nearest
 * rounds to the same values; bilinear re-rounds its interpolation to that grid, as the int8 kernel does).
 * Returns the first output; {@link fakeQuantRunOutputs} every output.
 */
export function fakeQuantRun(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  ranges: CalibrationRanges,
  granularity: ReadonlyMap<string, WeightGranularity>,
  onNode?: (node: IRNode, out: Float64Array) => void,
): Float32Array {
  return fakeQuantRunOutputs(ir, input, batch, ranges, granularity, onNode)[0];
}

/** {@link fakeQuantRun} returning every output of the IR, in order (`batch ×` per-example size each). */
export function fakeQuantRunOutputs(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  ranges: CalibrationRanges,
  granularity: ReadonlyMap<string, WeightGranularity>,
  onNode?: (node: IRNode, out: Float64Array) => void,
): Float32Array[] {
  const folded = foldBatchNorm(ir);
  const materialised = new Set(
    lowerToTflite(ir, 'tflite-int8')
      .tensors.filter((t) => t.kind === 'activation')
      .map((t) => t.name),
  );
  const params = new Map<string, QuantParams>();
  for (const n of folded.nodes) {
    if (!materialised.has(n.name)) continue;
    params.set(
      n.name,
      n.op === 'activation' && n.activation === 'sigmoid'
        ? { scale: 1 / 256, zeroPoint: -128 }
        : n.op === 'maxPool' || n.op === 'upsample' // share their input's quantization (see lowerToTflite)
          ? params.get(n.inputs[0])!
          : activationQuantParams(...ranges.get(n.name)!),
    );
  }
  const nodes = folded.nodes.map((n): IRNode => {
    if (n.op !== 'conv2d' && n.op !== 'depthwiseConv2d' && n.op !== 'dense') return n;
    const shape = n.weight.shape;
    // the output channel is the fastest-varying index: HWIO conv, [in, out] dense, [kh, kw, C, 1] depthwise
    const cout = n.op === 'depthwiseConv2d' ? shape[2] : shape[shape.length - 1];
    const perTensor = n.op === 'dense' || granularity.get(n.name) === 'per-tensor';
    const q = perTensor
      ? quantizePerTensorSymmetric(n.weight.data, cout)
      : quantizePerChannel(n.weight.data, [n.weight.data.length / cout, cout], 1);
    const w = new Float32Array(n.weight.data.length);
    for (let i = 0; i < w.length; i++) w[i] = q.data[i] * q.scales[i % cout];
    const inScale = params.get(n.inputs[0])!.scale;
    const b = quantizeBias(n.bias?.data ?? new Float32Array(cout), inScale, q.scales);
    const bias = Float32Array.from(b.data, (v, c) => v * b.scales[c]);
    return { ...n, weight: { shape, data: w }, bias: { shape: [cout], data: bias } };
  });
  return runModelIROutputs({ ...folded, nodes }, input, batch, {
    onNode: (node, out) => {
      const p = params.get(node.name);
      if (!p) return onNode?.(node, out);
      for (let i = 0; i < out.length; i++) {
        let q = round(out[i] / p.scale) + p.zeroPoint;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        out[i] = (q - p.zeroPoint) * p.scale;
      }
      onNode?.(node, out);
    },
  });
}
