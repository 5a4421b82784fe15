/**
 * Post-training full-integer quantization helpers (TFLite int8 scheme): per-tensor asymmetric int8
 * activations calibrated from min/max, per-channel symmetric int8 weights, int32 biases with
 * `scale = input_scale × weight_scale[c]`.
 */
import { NetAugError, type ModelIR } from '@netaug/core';
import { runModelIR } from '../reference/run-model-ir';

// Local copies: inside jest's vm sandbox every access to the global `Math` is ~40× slower than a local.
const { abs, floor, round, min: mathMin, max: mathMax } = Math;

/** Affine int8 quantization of a tensor: `real = scale × (q − zeroPoint)`. */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Calibrated float range of each IR node's output. */
export type CalibrationRanges = Map<string, [number, number]>;

/**
 * Runs the float reference executor over the calibration images and records the min and max of every node's
 * output. Images are NHWC Float32Arrays of the IR's input size.
 */
export function calibrate(ir: ModelIR, images: readonly Float32Array[], batchSize = 16): CalibrationRanges {
  if (!images.length) {
    throw new NetAugError('INVALID_ARGUMENT', 'int8 quantization needs at least one calibration image', {
      hint: 'pass quantize.calibration: Float32Array[] (NHWC images, ~100–500 representative examples)',
    });
  }
  const [h, w, c] = ir.inputShape;
  const size = h * w * c;
  const ranges: CalibrationRanges = new Map();
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * size);
    chunk.forEach((img, i) => {
      if (img.length !== size) {
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `calibration image ${start + i} has ${img.length} values, expected ${h}×${w}×${c} = ${size}`,
        );
      }
      batch.set(img, i * size);
    });
    runModelIR(ir, batch, chunk.length, {
      onNode: (node, out) => {
        let lo = Infinity;
        let hi = -Infinity;
        let bad = 0;
        for (let i = 0; i < out.length; i++) {
          const v = out[i];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (v !== v || v === Infinity || v === -Infinity) bad++;
        }
        if (bad) {
          throw new NetAugError(
            'NUMERIC',
            `node '${node.name}' produces ${bad} non-finite values on the calibration images`,
            {
              hint: 'check the weights for NaN/Inf and the inputs for their value range',
            },
          );
        }
        const r = ranges.get(node.name);
        ranges.set(node.name, r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi]);
      },
    });
  }
  return ranges;
}

/** Asymmetric int8 parameters covering `[min, max]` (extended to include 0, as TFLite requires). */
export function activationQuantParams(min: number, max: number): QuantParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new NetAugError('NUMERIC', `cannot quantize a tensor with range [${min}, ${max}]`, {
      hint: 'the float model produces non-finite activations on the calibration images',
    });
  }
  const scale = Math.max((hi - lo) / 255, 1e-9);
  const zeroPoint = Math.min(127, Math.max(-128, roundHalfAway(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** Quantizes values with given parameters (round half away from zero, saturating to int8). */
export function quantizeTensor(data: ArrayLike<number>, q: QuantParams): Int8Array {
  const out = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = clampInt8(roundHalfAway(data[i] / q.scale) + q.zeroPoint);
  return out;
}

/**
 * Per-channel symmetric int8 quantization of a weight tensor along axis `dim` of `shape` (values in
 * [−127, 127], zero point 0). Returns the int8 data and one scale per channel.
 */
export function quantizePerChannel(
  data: Float32Array,
  shape: readonly number[],
  dim: number,
): { data: Int8Array; scales: number[] } {
  const channels = shape[dim];
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = floor(i / inner) % channels;
    const a = abs(data[i]);
    if (a > maxAbs[c]) maxAbs[c] = a;
  }
  const scales = Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = floor(i / inner) % channels;
    const v = roundHalfAway(data[i] / scales[c]);
    q[i] = v < -127 ? -127 : v > 127 ? 127 : v;
  }
  return { data: q, scales };
}

/**
 * Per-tensor symmetric int8 quantization (one scale for all values), returned in the per-channel layout with
 * the same scale repeated `channels` times.
 */
export function quantizePerTensorSymmetric(
  data: Float32Array,
  channels: number,
): { data: Int8Array; scales: number[] } {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const a = abs(data[i]);
    if (a > m) m = a;
  }
  const scale = m > 0 ? m / 127 : 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = roundHalfAway(data[i] / scale);
    q[i] = v < -127 ? -127 : v > 127 ? 127 : v;
  }
  return { data: q, scales: new Array<number>(channels).fill(scale) };
}

/** int32 bias with per-channel scale `inputScale × weightScales[c]` (zero point 0). */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: readonly number[],
): { data: Int32Array; scales: number[] } {
  const scales = weightScales.map((s) => inputScale * s);
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const v = roundHalfAway(bias[c] / scales[c]);
    data[c] = mathMax(-2147483647, mathMin(2147483647, v));
  }
  return { data, scales };
}

/** Per-tensor asymmetric int8 quantization of a small constant from its own min/max. */
export function quantizeConstant(data: Float32Array): { data: Int8Array; params: QuantParams } {
  let lo = 0;
  let hi = 0;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const params = activationQuantParams(lo, hi);
  return { data: quantizeTensor(data, params), params };
}

function clampInt8(v: number): number {
  return v < -128 ? -128 : v > 127 ? 127 : v;
}

/** Rounds half away from zero, as TFLite's quantizer does. */
function roundHalfAway(x: number): number {
  return x < 0 ? -round(-x) : round(x);
}
