import { NetAugError } from '@netaug/core';
import { iou } from './boxes';
import type { Detection } from './types';

/** Options of {@link compareDetections}. */
export interface CompareDetectionsOptions {
  /** Two detections are the same when their labels are equal and their IoU is at least this (default 0.99). */
  iouThreshold?: number;
  /** Only detections scoring at least this take part, on both sides (default 0: all). */
  minScore?: number;
}

/** How two sets of detections of the same images agree ({@link compareDetections}). */
export interface DetectionAgreement {
  images: number;
  /** Detections of the reference and of the other side (with score ≥ `minScore`). */
  reference: number;
  other: number;
  /** Pairs found: same label, IoU ≥ `iouThreshold`. */
  matched: number;
  /** Reference detections without a partner, and the other side's. */
  unmatchedReference: number;
  unmatchedOther: number;
  /** Smallest and median IoU of the matched pairs (null without pairs). */
  minIoU: number | null;
  medianIoU: number | null;
  /** Largest |score difference| of the matched pairs (null without pairs). */
  maxScoreDiff: number | null;
  /** Every detection has its partner: the two sides found the same boxes. */
  same: boolean;
}

/**
 * Matches the detections of one model run two ways (e.g. tfjs and an exported model in its runtime) image by
 * image: reference detections in order of score, best first, each take the unmatched detection of the other side
 * with the same label and the highest IoU, if that IoU reaches `iouThreshold`. Reports how many found a partner,
 * the IoUs and score differences of the pairs.
 */
export function compareDetections(
  reference: readonly (readonly Detection[])[],
  other: readonly (readonly Detection[])[],
  options: CompareDetectionsOptions = {},
): DetectionAgreement {
  const iouThreshold = options.iouThreshold ?? 0.99;
  const minScore = options.minScore ?? 0;
  if (!(iouThreshold > 0 && iouThreshold <= 1))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `compareDetections: iouThreshold must be in (0, 1], got ${iouThreshold}`,
      {
        hint: '0.99 asks for the same boxes up to rounding; 0.5 for the same objects',
      },
    );
  if (reference.length !== other.length)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `compareDetections: ${reference.length} images of reference detections but ${other.length} of the other side`,
      { hint: 'pass the detections of the same images, in the same order' },
    );
  let nRef = 0;
  let nOther = 0;
  const ious: number[] = [];
  let maxScoreDiff = 0;
  for (let i = 0; i < reference.length; i++) {
    const ref = reference[i].filter((d) => d.score >= minScore).sort((a, b) => b.score - a.score);
    const oth = other[i].filter((d) => d.score >= minScore);
    nRef += ref.length;
    nOther += oth.length;
    const taken = new Uint8Array(oth.length);
    for (const r of ref) {
      let best = -1;
      let bestIoU = -1;
      for (let j = 0; j < oth.length; j++) {
        if (taken[j] || oth[j].label !== r.label) continue;
        const v = iou(r, oth[j]);
        if (v > bestIoU) {
          bestIoU = v;
          best = j;
        }
      }
      if (best < 0 || bestIoU < iouThreshold) continue;
      taken[best] = 1;
      ious.push(bestIoU);
      maxScoreDiff = Math.max(maxScoreDiff, Math.abs(r.score - oth[best].score));
    }
  }
  const sorted = [...ious].sort((a, b) => a - b);
  const matched = ious.length;
  return {
    images: reference.length,
    reference: nRef,
    other: nOther,
    matched,
    unmatchedReference: nRef - matched,
    unmatchedOther: nOther - matched,
    minIoU: matched ? sorted[0] : null,
    medianIoU: matched ? sorted[Math.floor((matched - 1) / 2)] : null,
    maxScoreDiff: matched ? maxScoreDiff : null,
    same: matched === nRef && matched === nOther,
  };
}
