import { NetAugError } from '@netaug/core';
import type { Box } from '@netaug/detection';
import { countLocations, locations, type Level } from './levels';

/** Options of {@link assignTargets}. */
export interface TargetOptions {
  /**
   * FCOS center sampling: a location is a positive only within `radius · stride` of the box center (the region
   * clipped to the box), as well as inside the box. `false` (or 0) uses the whole box (the original FCOS).
   * Default 1.5 (FCOS's improvement, on in mmdetection's and the authors' later configs).
   */
  centerSampling?: number | false;
}

/** FCOS training targets of one image (or, concatenated, of a batch): one entry per location. */
export interface FcosTargets {
  /** Locations per image (`Σ height · width` of the levels). */
  numLocations: number;
  /** Class of the assigned box, or −1 (background). */
  labels: Int32Array;
  /** Index of the assigned box in its image's list, or −1. */
  boxIndex: Int32Array;
  /** `(l, t, r, b)` distances to the assigned box **divided by the location's stride**; 0 for background. */
  ltrb: Float32Array;
  /** `sqrt(min(l, r)/max(l, r) · min(t, b)/max(t, b))` for positives, 0 for background. */
  centerness: Float32Array;
  /** Number of positive locations. */
  positives: number;
}

/**
 * FCOS target assignment on the CPU (float64). Location `k` at `(x, y)` (see {@link locations}) of a level with
 * stride `s` and size range `[lo, hi]` is a **positive** of box `b` when
 * - it lies strictly inside `b`: `l = x − b.x`, `t = y − b.y`, `r = b.x + b.w − x`, `b = b.y + b.h − y` all > 0;
 * - with center sampling `ρ`, also strictly inside the box's center region `[cx − ρs, cx + ρs] × [cy − ρs, cy + ρs]`
 *   clipped to the box;
 * - `lo ≤ max(l, t, r, b) ≤ hi` (the level is responsible for the box's size).
 * Among several such boxes the one of **smallest area** `w · h` wins (the first in the list on equal areas).
 * Crowd and difficult boxes are left out (never positives). Boxes are in pixels of the input.
 */
export function assignTargets(
  boxes: readonly Box[],
  levels: readonly Level[],
  options: TargetOptions = {},
): FcosTargets {
  const radius = options.centerSampling === false ? 0 : (options.centerSampling ?? 1.5);
  if (!(radius >= 0))
    throw new NetAugError('INVALID_ARGUMENT', `centerSampling must be ≥ 0 or false, got ${radius}`, {
      hint: 'FCOS uses 1.5; false turns center sampling off',
    });
  const loc = locations(levels);
  const n = countLocations(levels);
  const labels = new Int32Array(n).fill(-1);
  const boxIndex = new Int32Array(n).fill(-1);
  const ltrb = new Float32Array(4 * n);
  const centerness = new Float32Array(n);
  const used = boxes
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => !b.crowd && !b.difficult && b.w > 0 && b.h > 0);
  let positives = 0;
  for (let k = 0; k < n; k++) {
    const x = loc.x[k];
    const y = loc.y[k];
    const s = loc.stride[k];
    const [lo, hi] = levels[loc.level[k]].sizeRange;
    let best = -1;
    let bestArea = Infinity;
    let d: [number, number, number, number] = [0, 0, 0, 0];
    for (const { b, i } of used) {
      const l = x - b.x;
      const t = y - b.y;
      const r = b.x + b.w - x;
      const bt = b.y + b.h - y;
      if (!(Math.min(l, t, r, bt) > 0)) continue;
      if (radius > 0) {
        const cx = b.x + b.w / 2;
        const cy = b.y + b.h / 2;
        const x0 = Math.max(cx - radius * s, b.x);
        const y0 = Math.max(cy - radius * s, b.y);
        const x1 = Math.min(cx + radius * s, b.x + b.w);
        const y1 = Math.min(cy + radius * s, b.y + b.h);
        if (!(x > x0 && x < x1 && y > y0 && y < y1)) continue;
      }
      const m = Math.max(l, t, r, bt);
      if (m < lo || m > hi) continue;
      const area = b.w * b.h;
      if (area < bestArea) {
        best = i;
        bestArea = area;
        d = [l, t, r, bt];
      }
    }
    if (best < 0) continue;
    positives++;
    labels[k] = boxes[best].label;
    boxIndex[k] = best;
    for (let c = 0; c < 4; c++) ltrb[4 * k + c] = d[c] / s;
    const [l, t, r, bt] = d;
    centerness[k] = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, bt) / Math.max(t, bt)));
  }
  return { numLocations: n, labels, boxIndex, ltrb, centerness, positives };
}

/** The targets of a batch: {@link assignTargets} per image, concatenated image by image. */
export function assignBatchTargets(
  boxes: readonly (readonly Box[])[],
  levels: readonly Level[],
  options: TargetOptions = {},
): FcosTargets {
  const per = boxes.map((b) => assignTargets(b, levels, options));
  const n = countLocations(levels);
  const total = n * per.length;
  const out: FcosTargets = {
    numLocations: n,
    labels: new Int32Array(total),
    boxIndex: new Int32Array(total),
    ltrb: new Float32Array(4 * total),
    centerness: new Float32Array(total),
    positives: 0,
  };
  per.forEach((t, i) => {
    out.labels.set(t.labels, i * n);
    out.boxIndex.set(t.boxIndex, i * n);
    out.ltrb.set(t.ltrb, 4 * i * n);
    out.centerness.set(t.centerness, i * n);
    out.positives += t.positives;
  });
  return out;
}
