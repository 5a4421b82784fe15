import { NetAugError } from '@netaug/core';
import { boxArea, intersectionArea, iou } from './boxes';
import { annotationOf } from './transforms';
import type { Box, DetectionDataset, Detection } from './types';

/*
 * Both evaluations take the ground truth and the detections per image (`gts[i]`, `dets[i]`: image i) and rank
 * detections by descending score; equal scores are ordered by image index, then by position in that image's
 * detection list — the order pycocotools' stable (mergesort) sorts give when images are in ascending id order,
 * and the devkit's stable MATLAB sort gives for a results file listed image by image.
 */

function checkInputs(
  what: string,
  gts: readonly (readonly Box[])[],
  dets: readonly (readonly Detection[])[],
  numClasses: number | undefined,
): number {
  if (gts.length !== dets.length)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${what}: ${gts.length} images of ground truth but ${dets.length} of detections`,
      {
        hint: 'pass one list of detections per image, empty for images without detections',
      },
    );
  let max = -1;
  const checkLabel = (l: number, where: string) => {
    if (!Number.isInteger(l) || l < 0 || (numClasses !== undefined && l >= numClasses))
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `${what}: ${where} has label ${l}, not a class index${numClasses !== undefined ? ` below ${numClasses}` : ''}`,
        {
          hint: 'labels are class indices 0…numClasses−1',
        },
      );
    if (l > max) max = l;
  };
  gts.forEach((g, i) => g.forEach((b, j) => checkLabel(b.label, `ground truth ${j} of image ${i}`)));
  dets.forEach((d, i) =>
    d.forEach((b, j) => {
      checkLabel(b.label, `detection ${j} of image ${i}`);
      if (!Number.isFinite(b.score))
        throw new NetAugError(
          'INVALID_ARGUMENT',
          `${what}: detection ${j} of image ${i} has score ${b.score}`,
          {
            hint: 'scores must be finite numbers',
          },
        );
    }),
  );
  return numClasses ?? max + 1;
}

interface Ranked {
  det: Detection;
  image: number;
  index: number;
}

/** Detections of class `k`, ranked: score descending, then image index, then position in the image's list. */
function ranked(dets: readonly (readonly Detection[])[], k: number): Ranked[] {
  const out: Ranked[] = [];
  dets.forEach((d, image) => d.forEach((det, index) => det.label === k && out.push({ det, image, index })));
  return out.sort((a, b) => b.det.score - a.det.score || a.image - b.image || a.index - b.index);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ----------------------------------------------------------------------------------------------- VOC

/** Options of {@link evaluateVoc}. */
export interface VocEvalOptions {
  /** A detection matches when IoU ≥ this (default 0.5). */
  iouThreshold?: number;
  /** Number of classes (default: 1 + the largest label seen). */
  numClasses?: number;
  /** `all-points` (default; VOC2010 and later) or `11-point` (VOC2007's `use_07_metric`). */
  interpolation?: 'all-points' | '11-point';
}

/** VOC results of one class. */
export interface VocClassResult {
  /** Average precision, or `null` when the class has no (non-difficult) ground truth. */
  ap: number | null;
  /** Non-difficult ground-truth boxes. */
  positives: number;
  /** For each counted detection in rank order (detections matched to difficult boxes are left out): a TP? */
  tp: boolean[];
  /** Precision `TP / (TP + FP)` after each counted detection. */
  precision: number[];
  /** Recall `TP / positives` after each counted detection (empty when `positives` is 0). */
  recall: number[];
}

/** What {@link evaluateVoc} returns. */
export interface VocEvalResult {
  /** Mean of the per-class APs over the classes with ground truth; `null` when none has. */
  mAP: number | null;
  /** Per-class AP (`null`: no ground truth, excluded from `mAP`). */
  ap: (number | null)[];
  perClass: VocClassResult[];
  iouThreshold: number;
}

/** Area under the precision envelope: VOC2010+ all-point interpolation (the devkit's `VOCap`). */
export function vocApAllPoints(recall: readonly number[], precision: readonly number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

/** VOC2007 11-point interpolated AP: mean over `t = 0, 0.1, …, 1` of the best precision at recall ≥ t. */
export function vocAp11Point(recall: readonly number[], precision: readonly number[]): number {
  let ap = 0;
  for (let i = 0; i <= 10; i++) {
    const t = i / 10;
    let p = 0;
    for (let j = 0; j < recall.length; j++) if (recall[j] >= t && precision[j] > p) p = precision[j];
    ap += p / 11;
  }
  return ap;
}

/**
 * Pascal VOC detection AP per class and mAP, as the VOC devkit's `VOCevaldet` (VOC2010+ all-point interpolation
 * by default): detections of a class are ranked by score (ties: see the module note); each is assigned to the
 * ground-truth box of its class in its image with the highest IoU (the first on ties); IoU ≥ `iouThreshold` and
 * that box not yet taken → TP, already taken (a duplicate) → FP, IoU below → FP. A detection assigned to a
 * `difficult` (or `crowd`) box is neither TP nor FP, and those boxes do not count as positives. Classes without
 * positives get `ap: null` and are left out of `mAP`. IoU is continuous (see {@link iou}).
 */
export function evaluateVoc(
  gts: readonly (readonly Box[])[],
  dets: readonly (readonly Detection[])[],
  options: VocEvalOptions = {},
): VocEvalResult {
  const K = checkInputs('evaluateVoc', gts, dets, options.numClasses);
  const thr = options.iouThreshold ?? 0.5;
  const apOf = options.interpolation === '11-point' ? vocAp11Point : vocApAllPoints;
  const perClass: VocClassResult[] = [];
  for (let k = 0; k < K; k++) {
    const gtOf = gts.map((g) => g.filter((b) => b.label === k));
    const taken = gtOf.map((g) => new Uint8Array(g.length));
    const positives = gtOf.reduce((n, g) => n + g.filter((b) => !b.difficult && !b.crowd).length, 0);
    const tp: boolean[] = [];
    for (const { det, image } of ranked(dets, k)) {
      const g = gtOf[image];
      let best = -Infinity;
      let j = -1;
      for (let m = 0; m < g.length; m++) {
        const o = iou(det, g[m]);
        if (o > best) {
          best = o;
          j = m;
        }
      }
      if (j >= 0 && best >= thr) {
        if (g[j].difficult || g[j].crowd) continue; // ignored: neither TP nor FP
        if (!taken[image][j]) {
          taken[image][j] = 1;
          tp.push(true);
        } else tp.push(false); // duplicate
      } else tp.push(false);
    }
    const precision: number[] = [];
    const recall: number[] = [];
    let t = 0;
    tp.forEach((x, i) => {
      if (x) t++;
      precision.push(t / (i + 1));
      if (positives) recall.push(t / positives);
    });
    perClass.push({ ap: positives ? apOf(recall, precision) : null, positives, tp, precision, recall });
  }
  const ap = perClass.map((c) => c.ap);
  const valid = ap.filter((a): a is number => a !== null);
  return { mAP: valid.length ? mean(valid) : null, ap, perClass, iouThreshold: thr };
}

// ---------------------------------------------------------------------------------------------- COCO

/** COCO's IoU thresholds 0.50:0.05:0.95, computed as `np.linspace(.5, .95, 10)` does. */
export const COCO_IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) =>
  i === 9 ? 0.95 : i * ((0.95 - 0.5) / 9) + 0.5,
);
/** COCO's 101 recall thresholds 0:0.01:1 (`np.linspace(0, 1, 101)`). */
export const COCO_RECALL_THRESHOLDS: readonly number[] = Array.from({ length: 101 }, (_, i) =>
  i === 100 ? 1 : i * 0.01,
);
/** COCO's area ranges in px² (bounds inclusive): all, small `[0, 32²]`, medium `[32², 96²]`, large `[96², 1e10]`. */
export const COCO_AREA_RANGES: Readonly<
  Record<'all' | 'small' | 'medium' | 'large', readonly [number, number]>
> = {
  all: [0, 1e10],
  small: [0, 32 ** 2],
  medium: [32 ** 2, 96 ** 2],
  large: [96 ** 2, 1e10],
};
const EPS = 2.220446049250313e-16; // np.spacing(1)

/** Options of {@link evaluateCoco}. */
export interface CocoEvalOptions {
  /** Number of classes (default: 1 + the largest label seen). */
  numClasses?: number;
  /** The three detection limits per image and class (default `[1, 10, 100]`; the last is used for AP). */
  maxDets?: [number, number, number];
}

/** COCO results of one class (`null`: no ground truth that is not crowd). */
export interface CocoClassResult {
  /** AP@[.5:.95], all areas, last maxDets. */
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  /** Ground-truth boxes that are not crowd. */
  positives: number;
}

/** What {@link evaluateCoco} returns: pycocotools' 12 summary numbers (`null` where it prints −1) and per-class AP. */
export interface CocoEvalResult {
  /** AP@[.5:.95] (area all, maxDets 100): COCO's primary metric. */
  mAP: number | null;
  AP50: number | null;
  AP75: number | null;
  APsmall: number | null;
  APmedium: number | null;
  APlarge: number | null;
  AR1: number | null;
  AR10: number | null;
  AR100: number | null;
  ARsmall: number | null;
  ARmedium: number | null;
  ARlarge: number | null;
  perClass: CocoClassResult[];
}

interface ImageEval {
  scores: number[];
  /** Per threshold: matched / ignored flags of the (score-sorted, truncated) detections. */
  dtm: Uint8Array[];
  dtIg: Uint8Array[];
  /** Ground-truth boxes that are not ignored. */
  npig: number;
}

/** pycocotools' `evaluateImg` for one image, class and area range. */
function evaluateImage(
  g: readonly Box[],
  d: readonly Detection[],
  range: readonly [number, number],
  maxDet: number,
): ImageEval {
  const [lo, hi] = range;
  const gArea = (b: Box) => b.area ?? boxArea(b);
  // ground truth: not ignored first (stable), ignored = crowd or outside the area range
  const ig0 = g.map((b) => (b.crowd || gArea(b) < lo || gArea(b) > hi ? 1 : 0));
  const gOrder = g.map((_, i) => i).sort((a, b) => ig0[a] - ig0[b] || a - b);
  const gt = gOrder.map((i) => g[i]);
  const gtIg = gOrder.map((i) => ig0[i]);
  const crowd = gt.map((b) => (b.crowd ? 1 : 0));
  // detections: by score, stable, at most maxDet
  const dt = d
    .map((x, i) => ({ x, i }))
    .sort((a, b) => b.x.score - a.x.score || a.i - b.i)
    .slice(0, maxDet)
    .map((e) => e.x);
  const ious = dt.map((x) =>
    gt.map((y, j) => {
      // pycocotools (maskApi bbIou): for a crowd box the union is the detection's area
      const inter = intersectionArea(x, y);
      const union = crowd[j] ? boxArea(x) : boxArea(x) + boxArea(y) - inter;
      return union > 0 ? inter / union : 0;
    }),
  );
  const T = COCO_IOU_THRESHOLDS.length;
  const dtm: Uint8Array[] = [];
  const dtIg: Uint8Array[] = [];
  for (let t = 0; t < T; t++) {
    const gtm = new Uint8Array(gt.length);
    const m1 = new Uint8Array(dt.length);
    const ig = new Uint8Array(dt.length);
    for (let di = 0; di < dt.length; di++) {
      let best = Math.min(COCO_IOU_THRESHOLDS[t], 1 - 1e-10);
      let m = -1;
      for (let gi = 0; gi < gt.length; gi++) {
        if (gtm[gi] && !crowd[gi]) continue; // taken, and not a crowd box
        if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break; // a real match beats any ignored box
        if (ious[di][gi] < best) continue;
        best = ious[di][gi];
        m = gi;
      }
      if (m === -1) continue;
      ig[di] = gtIg[m];
      m1[di] = 1;
      gtm[m] = 1;
    }
    // unmatched detections outside the area range are ignored
    for (let di = 0; di < dt.length; di++) {
      const a = boxArea(dt[di]);
      if (!m1[di] && (a < lo || a > hi)) ig[di] = 1;
    }
    dtm.push(m1);
    dtIg.push(ig);
  }
  return { scores: dt.map((x) => x.score), dtm, dtIg, npig: gtIg.filter((x) => !x).length };
}

/**
 * pycocotools' `accumulate` for one class, area range and maxDet: per IoU threshold the 101-point interpolated
 * precision (`null` when no ground truth counts) and the final recall.
 */
function accumulate(evals: ImageEval[], maxDet: number): { precision: number[][]; recall: number[] } | null {
  const npig = evals.reduce((n, e) => n + e.npig, 0);
  if (npig === 0) return null;
  const rows: { score: number; e: ImageEval; j: number }[] = [];
  for (const e of evals)
    for (let j = 0; j < Math.min(maxDet, e.scores.length); j++) rows.push({ score: e.scores[j], e, j });
  const order = rows.map((_, i) => i).sort((a, b) => rows[b].score - rows[a].score || a - b);
  const R = COCO_RECALL_THRESHOLDS.length;
  const precision: number[][] = [];
  const recall: number[] = [];
  for (let t = 0; t < COCO_IOU_THRESHOLDS.length; t++) {
    const rc: number[] = [];
    const pr: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const i of order) {
      const { e, j } = rows[i];
      if (!e.dtIg[t][j]) {
        if (e.dtm[t][j]) tp++;
        else fp++;
      }
      rc.push(tp / npig);
      pr.push(tp / (tp + fp + EPS));
    }
    const nd = rc.length;
    recall.push(nd ? rc[nd - 1] : 0);
    for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    const q = new Array<number>(R).fill(0);
    let p = 0; // np.searchsorted(rc, recThrs, side='left'): the first index with rc ≥ threshold
    for (let r = 0; r < R; r++) {
      while (p < nd && rc[p] < COCO_RECALL_THRESHOLDS[r]) p++;
      if (p >= nd) break;
      q[r] = pr[p];
    }
    precision.push(q);
  }
  return { precision, recall };
}

/**
 * COCO detection metrics as pycocotools' `COCOeval` (iouType `bbox`, `useCats` 1) computes them: for each class,
 * area range and image, detections (best `maxDets[2]` by score per image and class) are matched greedily by
 * descending score to the unmatched ground-truth box of highest IoU ≥ t, for t = 0.50:0.05:0.95; crowd boxes
 * (`crowd: true`) can be matched by any number of detections, with IoU = intersection / detection area, and those
 * detections count neither as TP nor FP, nor the crowd boxes as positives (COCO's `iscrowd` rule); a box outside
 * the area range is ignored the same way (ground truth by its `area`, default `w · h`; an unmatched detection by
 * `w · h`). Precision is interpolated at 101 recall points (0:0.01:1) and averaged; classes with no positives are
 * left out of every mean (pycocotools prints −1 when nothing is left: here `null`).
 */
export function evaluateCoco(
  gts: readonly (readonly Box[])[],
  dets: readonly (readonly Detection[])[],
  options: CocoEvalOptions = {},
): CocoEvalResult {
  const K = checkInputs('evaluateCoco', gts, dets, options.numClasses);
  const maxDets = options.maxDets ?? [1, 10, 100];
  const last = maxDets[2];
  const areas = [
    COCO_AREA_RANGES.all,
    COCO_AREA_RANGES.small,
    COCO_AREA_RANGES.medium,
    COCO_AREA_RANGES.large,
  ];
  // acc[a][m][k]
  const acc = areas.map(() => maxDets.map(() => new Array<ReturnType<typeof accumulate>>(K).fill(null)));
  const perClass: CocoClassResult[] = [];
  for (let k = 0; k < K; k++) {
    const g = gts.map((x) => x.filter((b) => b.label === k));
    const d = dets.map((x) => x.filter((b) => b.label === k));
    areas.forEach((range, a) => {
      const evals: ImageEval[] = [];
      for (let i = 0; i < g.length; i++) {
        if (!g[i].length && !d[i].length) continue;
        evals.push(evaluateImage(g[i], d[i], range, last));
      }
      maxDets.forEach((m, mi) => (acc[a][mi][k] = accumulate(evals, m)));
    });
    const all = acc[0][2][k];
    const at = (t: number) => (all ? mean(all.precision[t]) : null);
    perClass.push({
      ap: all ? mean(all.precision.map(mean)) : null,
      ap50: at(0),
      ap75: at(5),
      positives: g.reduce((n, x) => n + x.filter((b) => !b.crowd).length, 0),
    });
  }
  const ap = (a: number, t?: number) => {
    const xs: number[] = [];
    for (const c of acc[a][2])
      if (c) for (const [ti, q] of c.precision.entries()) if (t === undefined || t === ti) xs.push(...q);
    return xs.length ? mean(xs) : null;
  };
  const ar = (a: number, mi: number) => {
    const xs: number[] = [];
    for (const c of acc[a][mi]) if (c) xs.push(...c.recall);
    return xs.length ? mean(xs) : null;
  };
  return {
    mAP: ap(0),
    AP50: ap(0, 0),
    AP75: ap(0, 5),
    APsmall: ap(1),
    APmedium: ap(2),
    APlarge: ap(3),
    AR1: ar(0, 0),
    AR10: ar(0, 1),
    AR100: ar(0, 2),
    ARsmall: ar(1, 2),
    ARmedium: ar(2, 2),
    ARlarge: ar(3, 2),
    perClass,
  };
}

/** The ground truth of every image of a dataset (from `annotation(i)` when it has one, else decoding), in order. */
export async function groundTruthOf(ds: DetectionDataset): Promise<Box[][]> {
  const out: Box[][] = [];
  for (let i = 0; i < ds.size; i++) out.push((await annotationOf(ds, i)).boxes);
  return out;
}
