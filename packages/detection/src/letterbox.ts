import { NetAugError } from '@netaug/core';
import type { Rect } from './types';

/**
 * Where a letterboxed image sits in its canvas: the source (`srcHeight × srcWidth`) is resized to
 * `newHeight × newWidth` (aspect kept: `scale = min(dstH / srcH, dstW / srcW)`, sizes rounded to integers, at
 * least 1) and pasted at `(left, top)` = `floor` of half the padding, in a `dstHeight × dstWidth` canvas.
 * Boxes map with `scaleX = newWidth / srcWidth`, `scaleY = newHeight / srcHeight` (the exact factors after
 * rounding, so boxes follow the pixels).
 */
export interface LetterboxParams {
  srcHeight: number;
  srcWidth: number;
  dstHeight: number;
  dstWidth: number;
  newHeight: number;
  newWidth: number;
  top: number;
  left: number;
  scaleX: number;
  scaleY: number;
}

/** The {@link LetterboxParams} of fitting `srcHeight × srcWidth` into `dstHeight × dstWidth`. */
export function letterboxParams(
  srcHeight: number,
  srcWidth: number,
  dstHeight: number,
  dstWidth: number,
): LetterboxParams {
  for (const [k, v] of Object.entries({ srcHeight, srcWidth, dstHeight, dstWidth })) {
    if (!Number.isInteger(v) || v <= 0)
      throw new NetAugError('INVALID_ARGUMENT', `letterbox: ${k} must be a positive integer, got ${v}`, {
        hint: 'pass image sizes in whole pixels',
      });
  }
  const scale = Math.min(dstHeight / srcHeight, dstWidth / srcWidth);
  const newHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * scale)));
  const newWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * scale)));
  return {
    srcHeight,
    srcWidth,
    dstHeight,
    dstWidth,
    newHeight,
    newWidth,
    top: Math.floor((dstHeight - newHeight) / 2),
    left: Math.floor((dstWidth - newWidth) / 2),
    scaleX: newWidth / srcWidth,
    scaleY: newHeight / srcHeight,
  };
}

/** A box of the source image mapped into the letterboxed canvas. */
export function letterboxBox<T extends Rect>(b: T, p: LetterboxParams): T {
  return {
    ...b,
    x: b.x * p.scaleX + p.left,
    y: b.y * p.scaleY + p.top,
    w: b.w * p.scaleX,
    h: b.h * p.scaleY,
  };
}

/**
 * A box predicted on the letterboxed canvas mapped back to the source image (the inverse of
 * {@link letterboxBox}; not clipped — see `clipBox`).
 */
export function unletterboxBox<T extends Rect>(b: T, p: LetterboxParams): T {
  return {
    ...b,
    x: (b.x - p.left) / p.scaleX,
    y: (b.y - p.top) / p.scaleY,
    w: b.w / p.scaleX,
    h: b.h / p.scaleY,
  };
}
