import { NetAugError } from '@netaug/core';
import { clipBox, nms, unletterboxBox, type Detection, type LetterboxParams } from '@netaug/detection';
import { countLocations, locations, type Level } from './levels';
import { MAX_LOG_DISTANCE } from './losses';

/** Options of {@link decodeDetections} and {@link decodeRaw}. */
export interface DetectorDecodeOptions {
  /** A (location, class) is a candidate when its class probability is **above** this (FCOS: 0.05). */
  scoreThreshold?: number;
  /** Candidates kept before NMS, the best `sqrt(cls · centerness)` first (FCOS: 1000). */
  preNmsTopK?: number;
  /** Class-wise NMS threshold (FCOS: 0.6). */
  iouThreshold?: number;
  /** Detections kept per image after NMS (default 100). */
  topK?: number;
  /** The input was letterboxed from a source image: map the boxes back to it (and clip to it). */
  letterbox?: LetterboxParams;
}

/** Per-location probabilities and distances (plain arrays, `L` locations in `locations(levels)` order). */
export interface DetectionMaps {
  /** `L × C` class probabilities (row-major). */
  cls: ArrayLike<number>;
  /** `L` centerness probabilities. */
  centerness: ArrayLike<number>;
  /** `L × 4` distances `(l, t, r, b)` in input pixels. */
  ltrb: ArrayLike<number>;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * FCOS post-processing of one image, in plain JS:
 * 1. every (location, class) whose class probability is above `scoreThreshold` is a candidate, scored
 *    `sqrt(cls · centerness)`;
 * 2. the `preNmsTopK` best (ties: location, then class order);
 * 3. box from the location `(x, y)` and its distances: `[x − l, y − t, x + r, y + b]`, clipped to the input;
 *    with `letterbox`, mapped back to the source image (`unletterboxBox`) and clipped to it; empty boxes dropped;
 * 4. class-wise NMS (`nms` of @netaug/detection, IoU > `iouThreshold` suppressed), at most `topK`.
 * Returns detections in the (source) image's pixels, best first.
 */
export function decodeDetections(
  maps: DetectionMaps,
  levels: readonly Level[],
  numClasses: number,
  options: DetectorDecodeOptions = {},
): Detection[] {
  const n = countLocations(levels);
  const C = numClasses;
  if (maps.cls.length !== n * C || maps.centerness.length !== n || maps.ltrb.length !== 4 * n)
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `decodeDetections: ${maps.cls.length} class, ${maps.centerness.length} centerness and ${maps.ltrb.length} box values for ${n} locations and ${C} classes`,
      { hint: 'maps must hold L × C, L and L × 4 values for the levels of the input size' },
    );
  const thr = options.scoreThreshold ?? 0.05;
  const preK = options.preNmsTopK ?? 1000;
  const loc = locations(levels);
  const inW = levels[0].width * levels[0].stride;
  const inH = levels[0].height * levels[0].stride;
  const cand: { k: number; c: number; score: number }[] = [];
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < C; c++) {
      const p = maps.cls[k * C + c];
      if (p > thr) cand.push({ k, c, score: Math.sqrt(p * maps.centerness[k]) });
    }
  }
  cand.sort((a, b) => b.score - a.score || a.k - b.k || a.c - b.c);
  const dets: Detection[] = [];
  for (const { k, c, score } of cand.slice(0, preK)) {
    const x1 = loc.x[k] - maps.ltrb[4 * k];
    const y1 = loc.y[k] - maps.ltrb[4 * k + 1];
    const x2 = loc.x[k] + maps.ltrb[4 * k + 2];
    const y2 = loc.y[k] + maps.ltrb[4 * k + 3];
    let d: Detection = clipBox({ x: x1, y: y1, w: x2 - x1, h: y2 - y1, label: c, score }, inW, inH);
    if (options.letterbox) {
      const p = options.letterbox;
      d = clipBox(unletterboxBox(d, p), p.srcWidth, p.srcHeight);
    }
    if (d.w > 0 && d.h > 0) dets.push(d);
  }
  return nms(dets, { iouThreshold: options.iouThreshold ?? 0.6, topK: options.topK ?? 100 });
}

/**
 * Raw detector outputs of one image: `Detector.forward`'s `L × (C + 5)` values, or one array per level, finest
 * first, each `H_l · W_l · (C + 5)` values — the outputs of `Detector.extract()`'s ModelIR and of the models
 * exported from it (NHWC `[1, H_l, W_l, C + 5]`).
 */
export type RawDetectorOutputs = ArrayLike<number> | readonly ArrayLike<number>[];

/** One image's raw outputs as one `L × (C + 5)` array (per-level arrays concatenated, checked against `levels`). */
export function concatRawOutputs(
  raw: RawDetectorOutputs,
  levels: readonly Level[],
  numClasses: number,
): ArrayLike<number> {
  if (!Array.isArray(raw) || (raw.length > 0 && typeof raw[0] === 'number')) return raw as ArrayLike<number>;
  const perLevel = raw as readonly ArrayLike<number>[];
  const K = numClasses + 5;
  if (perLevel.length !== levels.length)
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `decode: ${perLevel.length} output arrays for ${levels.length} levels (strides ${levels.map((l) => l.stride).join(', ')})`,
      { hint: "pass one array per level, finest first, in the order of the model's outputs" },
    );
  const out = new Float32Array(countLocations(levels) * K);
  let o = 0;
  perLevel.forEach((a, l) => {
    const { height, width, stride } = levels[l];
    if (a.length !== height * width * K)
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `decode: output ${l} (stride ${stride}) has ${a.length} values, expected ${height}×${width}×${K}`,
        { hint: 'the levels must be those of the input size the model was exported for (levelLayout)' },
      );
    out.set(a, o);
    o += a.length;
  });
  return out;
}

/**
 * The probabilities and pixel distances of raw detector outputs of one image (`L × (C + 5)` values, as
 * `Detector.forward` gives them, or one array per level, as an exported model does): `sigmoid` of the class and
 * centerness logits, `ltrb = exp(v) · stride` (`v` clipped to ±8, as in training).
 */
export function rawToMaps(
  rawOutputs: RawDetectorOutputs,
  levels: readonly Level[],
  numClasses: number,
): { cls: Float32Array; centerness: Float32Array; ltrb: Float32Array } {
  const n = countLocations(levels);
  const C = numClasses;
  const K = C + 5;
  const raw = concatRawOutputs(rawOutputs, levels, numClasses);
  if (raw.length !== n * K)
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `rawToMaps: ${raw.length} values for ${n} locations × ${K} outputs`,
      { hint: 'pass one image of the detector output ([L, C + 5])' },
    );
  const { stride } = locations(levels);
  const cls = new Float32Array(n * C);
  const centerness = new Float32Array(n);
  const ltrb = new Float32Array(4 * n);
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < C; c++) cls[k * C + c] = sigmoid(raw[k * K + c]);
    for (let j = 0; j < 4; j++) {
      const v = Math.min(MAX_LOG_DISTANCE, Math.max(-MAX_LOG_DISTANCE, raw[k * K + C + j]));
      ltrb[4 * k + j] = Math.exp(v) * stride[k];
    }
    centerness[k] = sigmoid(raw[k * K + C + 4]);
  }
  return { cls, centerness, ltrb };
}

/**
 * {@link rawToMaps} then {@link decodeDetections}: raw outputs of one image (`forward`'s rows, or an exported
 * model's per-level outputs) to its detections.
 */
export function decodeRaw(
  raw: RawDetectorOutputs,
  levels: readonly Level[],
  numClasses: number,
  options: DetectorDecodeOptions = {},
): Detection[] {
  return decodeDetections(rawToMaps(raw, levels, numClasses), levels, numClasses, options);
}
