import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import type { FcosTargets } from './targets';

/** `BCE(sigmoid(x), t)` from logits, elementwise and stable: `max(x, 0) − x·t + log(1 + exp(−|x|))`. */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.softplus(tf.neg(tf.abs(logits)))),
  );
}

/** Options of {@link sigmoidFocalLoss}. */
export interface FocalLossOptions {
  /** Weight of the positives (`1 − alpha` for the negatives); default 0.25 (RetinaNet, FCOS). */
  alpha?: number;
  /** Focusing exponent; default 2. */
  gamma?: number;
}

/**
 * Sigmoid focal loss (Lin et al. 2017), **summed** over every element: `Σ α_t · (1 − p_t)^γ · BCE(p, t)` with
 * `p = sigmoid(logits)`, `p_t = p·t + (1 − p)(1 − t)`, `α_t = α·t + (1 − α)(1 − t)`. `targets` has the shape of
 * `logits` (one-hot rows, all-zero rows for background).
 */
export function sigmoidFocalLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  options: FocalLossOptions = {},
): tf.Scalar {
  const alpha = options.alpha ?? 0.25;
  const gamma = options.gamma ?? 2;
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ce = bceWithLogits(logits, targets);
    const pt = tf.add(tf.mul(p, targets), tf.mul(tf.sub(1, p), tf.sub(1, targets)));
    const at = tf.add(tf.mul(targets, alpha), tf.mul(tf.sub(1, targets), 1 - alpha));
    const mod = gamma === 2 ? tf.square(tf.sub(1, pt)) : tf.pow(tf.sub(1, pt), gamma);
    return tf.sum(tf.mul(tf.mul(at, mod), ce)) as tf.Scalar;
  });
}

/**
 * GIoU loss `1 − GIoU` of boxes given as `(l, t, r, b)` distances from the **same** location (`[P, 4]` each,
 * positive): `I = (min(l) + min(r))·(min(t) + min(b))`, `U = A_p + A_g − I`, enclosing box
 * `C = (max(l) + max(r))·(max(t) + max(b))`, `GIoU = I/U − (C − U)/C`. Returns the `[P]` losses.
 */
export function giouLossLtrb(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const n = pred.shape[0];
    const col = (t: tf.Tensor2D, i: number) => tf.reshape(tf.slice(t, [0, i], [n, 1]), [n]);
    const [pl, pt, pr, pb] = [0, 1, 2, 3].map((i) => col(pred, i));
    const [gl, gt, gr, gb] = [0, 1, 2, 3].map((i) => col(target, i));
    const areaP = tf.mul(tf.add(pl, pr), tf.add(pt, pb));
    const areaG = tf.mul(tf.add(gl, gr), tf.add(gt, gb));
    const iw = tf.add(tf.minimum(pl, gl), tf.minimum(pr, gr));
    const ih = tf.add(tf.minimum(pt, gt), tf.minimum(pb, gb));
    const inter = tf.mul(iw, ih);
    const union = tf.sub(tf.add(areaP, areaG), inter);
    const cw = tf.add(tf.maximum(pl, gl), tf.maximum(pr, gr));
    const ch = tf.add(tf.maximum(pt, gt), tf.maximum(pb, gb));
    const enclose = tf.mul(cw, ch);
    const giou = tf.sub(tf.div(inter, union), tf.div(tf.sub(enclose, union), enclose));
    return tf.sub(1, giou) as tf.Tensor1D;
  });
}

/** Options of {@link fcosLoss}. */
export interface FcosLossOptions extends FocalLossOptions {
  /** Weight of the box (GIoU) term; default 1. */
  boxWeight?: number;
  /** Weight of the centerness term; default 1. */
  centernessWeight?: number;
}

/** The three FCOS terms and their sum (scalars). */
export interface FcosLoss {
  total: tf.Scalar;
  cls: tf.Scalar;
  box: tf.Scalar;
  centerness: tf.Scalar;
}

/** Largest exponent of the box branch (`ltrb / stride = exp(v)`, `v` clipped to ±this). */
export const MAX_LOG_DISTANCE = 8;

/**
 * Columns `[start, start + count)` of a `[m, k]` matrix, as a product with a 0/1 selection matrix (exact; a
 * non-contiguous slice and its gradient run element by element on tfjs-backend-cpu, a matMul does not).
 */
function columns(x: tf.Tensor2D, start: number, count: number): tf.Tensor2D {
  const k = x.shape[1];
  const sel = new Float32Array(k * count);
  for (let j = 0; j < count; j++) sel[(start + j) * count + j] = 1;
  return tf.matMul(x, tf.tensor2d(sel, [k, count]));
}

/**
 * The FCOS loss of raw detector outputs — `[N, L, C + 5]` (class logits, `v = log(ltrb / stride)`, centerness
 * logit; see `Detector.forward`), or one tensor per level (`[N, L_l, C + 5]` or `[N, H_l, W_l, C + 5]`, see
 * `Detector.forwardLevels`), which avoids concatenating them — against targets of the same `N · L` locations
 * (see `assignBatchTargets`):
 * - classification: {@link sigmoidFocalLoss} over every location and class, divided by `max(1, positives)`;
 * - box: {@link giouLossLtrb} of `exp(v)` against the targets' `ltrb / stride` on the positives, weighted by the
 *   centerness targets and divided by their sum (FCOS);
 * - centerness: BCE of the centerness logit against the centerness target on the positives, divided by
 *   `max(1, positives)`.
 * Without positives the box and centerness terms are 0.
 */
export function fcosLoss(
  raw: tf.Tensor | readonly tf.Tensor[],
  targets: FcosTargets,
  numClasses: number,
  options: FcosLossOptions = {},
): FcosLoss {
  const C = numClasses;
  const K = C + 5;
  const M = targets.labels.length;
  const L = targets.numLocations;
  const N = M / L;
  const parts = Array.isArray(raw) ? (raw as readonly tf.Tensor[]) : [raw as tf.Tensor];
  const sizes = parts.map((t) => t.size / (N * K));
  if (
    !Number.isInteger(N) ||
    sizes.some((s) => !Number.isInteger(s)) ||
    sizes.reduce((a, b) => a + b, 0) !== L
  )
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `fcosLoss: outputs of shapes ${parts.map((t) => `[${t.shape}]`).join(', ')} for ${M} target locations and ${C} classes`,
      { hint: 'targets must be assigned with the levels of the same input size and batch' },
    );
  let positives = 0;
  let wsum = 0;
  for (let i = 0; i < M; i++) {
    const label = targets.labels[i];
    if (label < 0) continue;
    if (label >= C)
      throw new NetAugError('INVALID_ARGUMENT', `fcosLoss: label ${label} with ${C} classes`, {
        hint: 'numClasses must exceed every label',
      });
    positives++;
    wsum += targets.centerness[i];
  }
  const npos = Math.max(1, positives);
  return tf.tidy(() => {
    const focal: tf.Scalar[] = [];
    const box: tf.Scalar[] = [];
    const ctr: tf.Scalar[] = [];
    let offset = 0;
    parts.forEach((part, l) => {
      const Ll = sizes[l];
      const m = N * Ll;
      const flat = tf.reshape(part, [m, K]) as tf.Tensor2D;
      // the targets of this level's rows: row i·Ll + j is location offset + j of image i
      const oneHot = new Float32Array(m * C);
      const isPos = new Float32Array(m);
      const weight = new Float32Array(m);
      const ctrT = new Float32Array(m);
      const tl = new Float32Array(4 * m).fill(1); // background: any positive box keeps the GIoU finite
      let any = false;
      for (let i = 0; i < N; i++)
        for (let j = 0; j < Ll; j++) {
          const src = i * L + offset + j;
          const r = i * Ll + j;
          const label = targets.labels[src];
          if (label < 0) continue;
          any = true;
          oneHot[r * C + label] = 1;
          isPos[r] = 1;
          weight[r] = targets.centerness[src];
          ctrT[r] = targets.centerness[src];
          tl.set(targets.ltrb.subarray(4 * src, 4 * src + 4), 4 * r);
        }
      offset += Ll;
      focal.push(sigmoidFocalLoss(columns(flat, 0, C), tf.tensor2d(oneHot, [m, C]), options));
      if (!any) return;
      // box and centerness terms on every location, weighted by 0 for background (a gather's gradient, an
      // unsorted segment sum, is very slow on tfjs-backend-cpu)
      const v = columns(flat, C, 4);
      const pred = tf.exp(tf.clipByValue(v, -MAX_LOG_DISTANCE, MAX_LOG_DISTANCE)) as tf.Tensor2D;
      const giou = giouLossLtrb(pred, tf.tensor2d(tl, [m, 4]));
      box.push(tf.sum(tf.mul(giou, tf.tensor1d(weight))) as tf.Scalar);
      const ctrLogit = tf.reshape(columns(flat, C + 4, 1), [m]);
      ctr.push(tf.sum(tf.mul(bceWithLogits(ctrLogit, tf.tensor1d(ctrT)), tf.tensor1d(isPos))) as tf.Scalar);
    });
    const sum = (xs: tf.Scalar[]) => (xs.length === 0 ? tf.scalar(0) : xs.length === 1 ? xs[0] : tf.addN(xs));
    const clsLoss = tf.div(sum(focal), npos) as tf.Scalar;
    const boxLoss = (positives ? tf.div(sum(box), Math.max(wsum, 1e-6)) : tf.scalar(0)) as tf.Scalar;
    const ctrLoss = (positives ? tf.div(sum(ctr), npos) : tf.scalar(0)) as tf.Scalar;
    const bw = options.boxWeight ?? 1;
    const cw = options.centernessWeight ?? 1;
    const total = tf.addN([clsLoss, tf.mul(boxLoss, bw), tf.mul(ctrLoss, cw)]) as tf.Scalar;
    return { total, cls: clsLoss, box: boxLoss, centerness: ctrLoss };
  });
}
