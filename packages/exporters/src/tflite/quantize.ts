/**
 * Post-training full-integer quantization helpers (TFLite int8 scheme): per-tensor asymmetric int8
 * activations calibrated from min/max, per-channel symmetric int8 weights, int32 biases with
 * `scale = input_scale × weight_scale[c]`.
 */
import { NetAugError, foldBatchNorm, type IRNode, type ModelIR } from '@netaug/core';
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
 * output, on the BN-folded IR: the graph the TFLite export lowers, so a batch norm folded into its conv has
 * no entry of its own and the conv's entry is the range after the batch norm. Images are NHWC Float32Arrays
 * of the IR's input size.
 */
export function calibrate(irIn: ModelIR, images: readonly Float32Array[], batchSize = 16): CalibrationRanges {
  const ir = foldBatchNorm(irIn);
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

/** Weight quantization granularity of one conv / depthwise / dense layer. */
export type WeightGranularity = 'per-channel' | 'per-tensor';

/** Measured weight-rounding noise of one weight layer (see {@link measureWeightNoise}). */
export interface WeightNoise {
  /** IR node (of the BN-folded IR). */
  node: string;
  channels: number;
  /** Per output channel: RMS over the calibration outputs of `conv(x, dequant(q(W)) − W)`, per-channel weights. */
  perChannelRms: Float64Array;
  /** The same with one scale for the whole tensor. */
  perTensorRms: Float64Array;
}

/**
 * Measures, on calibration images, the error that rounding the weights to int8 adds to each output channel
 * of every conv2d / depthwiseConv2d / dense node of a BN-folded IR, for per-channel and for per-tensor
 * symmetric weight scales: the layer is re-run with weights `dequant(q(W)) − W` on its float inputs (the
 * error is linear in the weights), and the RMS over images and positions is taken per output channel.
 */
export function measureWeightNoise(
  folded: ModelIR,
  images: readonly Float32Array[],
  batchSize = 8,
): Map<string, WeightNoise> {
  const weighted = folded.nodes.filter(
    (n): n is Extract<IRNode, { op: 'conv2d' | 'depthwiseConv2d' | 'dense' }> =>
      n.op === 'conv2d' || n.op === 'depthwiseConv2d' || n.op === 'dense',
  );
  // one extra node per layer and granularity reading the same input, with the weight error as its weight
  const probes = new Map<string, { layer: string; kind: WeightGranularity; cout: number }>();
  const extra: IRNode[] = [];
  for (const n of weighted) {
    const cout = n.op === 'depthwiseConv2d' ? n.weight.shape[2] : n.weight.shape[n.weight.shape.length - 1];
    for (const kind of ['per-channel', 'per-tensor'] as const) {
      const w = n.weight.data;
      const q =
        kind === 'per-tensor'
          ? quantizePerTensorSymmetric(w, cout)
          : quantizePerChannel(w, [w.length / cout, cout], 1);
      const dw = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) dw[i] = q.data[i] * q.scales[i % cout] - w[i];
      const name = `${n.name}/weight-noise/${kind}`;
      extra.push({ ...n, name, weight: { shape: n.weight.shape, data: dw }, bias: undefined } as IRNode);
      probes.set(name, { layer: n.name, kind, cout });
    }
  }
  const sums = new Map<string, Float64Array>();
  const counts = new Map<string, number>();
  const probeIR: ModelIR = { ...folded, nodes: [...folded.nodes, ...extra] };
  const [h, w, c] = folded.inputShape;
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * h * w * c);
    chunk.forEach((img, i) => batch.set(img, i * h * w * c));
    runModelIR(probeIR, batch, chunk.length, {
      onNode: (node, out) => {
        const p = probes.get(node.name);
        if (!p) return;
        let s = sums.get(node.name);
        if (!s) sums.set(node.name, (s = new Float64Array(p.cout)));
        for (let i = 0; i < out.length; i++) s[i % p.cout] += out[i] * out[i];
        if (p.kind === 'per-tensor') counts.set(p.layer, (counts.get(p.layer) ?? 0) + out.length / p.cout);
      },
    });
  }
  const result = new Map<string, WeightNoise>();
  for (const n of weighted) {
    const m = counts.get(n.name) ?? 1;
    const rms = (kind: WeightGranularity) =>
      Float64Array.from(sums.get(`${n.name}/weight-noise/${kind}`)!, (v) => Math.sqrt(v / m));
    const perTensorRms = rms('per-tensor');
    result.set(n.name, {
      node: n.name,
      channels: perTensorRms.length,
      perChannelRms: rms('per-channel'),
      perTensorRms,
    });
  }
  return result;
}

/**
 * Whether one weight scale for the whole tensor is enough for a layer. `baseNoise2[c]` is the mean squared
 * int8 error the layer's output channel `c` has anyway, without its own weight rounding: the noise that
 * quantized activations carry in from the layers before, plus the rounding of the output tensor to its int8
 * grid. Per-tensor is chosen when, in every output channel, `base + weightNoise²` with one weight scale is at
 * most `1 + tolerance` times the same with per-channel scales, i.e. when per-channel scales would not make the
 * layer's output measurably more accurate.
 */
export function chooseWeightGranularity(
  noise: WeightNoise,
  baseNoise2: ArrayLike<number>,
  tolerance: number,
): { granularity: WeightGranularity; worstRatio: number } {
  let worst = 1;
  for (let c = 0; c < noise.channels; c++) {
    const b = baseNoise2[c];
    const r = (b + noise.perTensorRms[c] ** 2) / (b + noise.perChannelRms[c] ** 2);
    if (r > worst) worst = r;
  }
  return { granularity: worst <= 1 + tolerance ? 'per-tensor' : 'per-channel', worstRatio: worst };
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
