import { foldBatchNorm, type IRNode, type ModelIR } from '@netaug/core';
import { runModelIR } from '../reference/run-model-ir';
import { lowerToTflite } from './lower';
import {
  activationQuantParams,
  calibrate,
  quantizeBias,
  quantizePerChannel,
  quantizePerTensorSymmetric,
  type CalibrationRanges,
  type QuantParams,
} from './quantize';

const { round } = Math;

/**
 * Fake-quantized ("simulated int8") run of a ModelIR with exactly the parameters the int8 TFLite export uses:
 * BN folded, weights per-channel (dense per-tensor) int8 and biases int32 rounded and dequantized, and every
 * activation tensor the TFLite graph materialises rounded to its int8 grid. Float arithmetic in between, so it
 * differs from an integer kernel by rounding only. Use it to predict int8 accuracy in JS, and to check a
 * runtime's int8 outputs.
 *
 * @returns `batch × numClasses` logits.
 */
export function simulateInt8(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  calibration: readonly Float32Array[] | CalibrationRanges,
): Float32Array {
  const ranges = calibration instanceof Map ? calibration : calibrate(ir, calibration);
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
        : activationQuantParams(...ranges.get(n.name)!),
    );
  }
  const nodes = folded.nodes.map((n): IRNode => {
    if (n.op !== 'conv2d' && n.op !== 'depthwiseConv2d' && n.op !== 'dense') return n;
    const shape = n.weight.shape;
    // the output channel is the fastest-varying index: HWIO conv, [in, out] dense, [kh, kw, C, 1] depthwise
    const cout = n.op === 'depthwiseConv2d' ? shape[2] : shape[shape.length - 1];
    const q =
      n.op === 'dense'
        ? quantizePerTensorSymmetric(n.weight.data, cout)
        : quantizePerChannel(n.weight.data, [n.weight.data.length / cout, cout], 1);
    const w = new Float32Array(n.weight.data.length);
    for (let i = 0; i < w.length; i++) w[i] = q.data[i] * q.scales[i % cout];
    const inScale = params.get(n.inputs[0])!.scale;
    const b = quantizeBias(n.bias?.data ?? new Float32Array(cout), inScale, q.scales);
    const bias = Float32Array.from(b.data, (v, c) => v * b.scales[c]);
    return { ...n, weight: { shape, data: w }, bias: { shape: [cout], data: bias } };
  });
  return runModelIR({ ...folded, nodes }, input, batch, {
    onNode: (node, out) => {
      const p = params.get(node.name);
      if (!p) return;
      for (let i = 0; i < out.length; i++) {
        let q = round(out[i] / p.scale) + p.zeroPoint;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        out[i] = (q - p.zeroPoint) * p.scale;
      }
    },
  });
}
