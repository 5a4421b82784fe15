import type { ModelIR } from '@netaug/core';
import { fakeQuantRunOutputs } from './fake-quant';
import { planInt8, type Int8Plan, type WeightGranularityOptions } from './plan';
import type { CalibrationRanges } from './quantize';

/**
 * Fake-quantized ("simulated int8") run of a ModelIR with exactly the parameters the int8 TFLite export uses:
 * BN folded, weights int8 per channel or per tensor as planned (dense per tensor), biases int32 rounded and
 * dequantized, and every activation tensor the TFLite graph materialises rounded to its int8 grid. Float
 * arithmetic in between, so it differs from an integer kernel by rounding only. Use it to predict int8 accuracy
 * in JS, and to check a runtime's int8 outputs.
 *
 * @param calibration calibration images (planned with `options`, as the exporter does), an {@link Int8Plan}
 *   from `planInt8`, or bare calibration ranges (then every conv / depthwise layer is per-channel).
 * @returns `batch × numClasses` logits (the first output); {@link simulateInt8Outputs} returns every output.
 */
export function simulateInt8(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  calibration: readonly Float32Array[] | CalibrationRanges | Int8Plan,
  options: WeightGranularityOptions = {},
): Float32Array {
  return simulateInt8Outputs(ir, input, batch, calibration, options)[0];
}

/** {@link simulateInt8} for every output of the IR (`ir.outputs` or the single `ir.output`), in order. */
export function simulateInt8Outputs(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  calibration: readonly Float32Array[] | CalibrationRanges | Int8Plan,
  options: WeightGranularityOptions = {},
): Float32Array[] {
  const plan: Int8Plan =
    calibration instanceof Map
      ? { ranges: calibration, layers: [] }
      : 'ranges' in calibration
        ? calibration
        : planInt8(ir, calibration, options);
  const granularity = new Map(plan.layers.map((l) => [l.node, l.granularity]));
  return fakeQuantRunOutputs(ir, input, batch, plan.ranges, granularity);
}
