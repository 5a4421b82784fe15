import { Rng } from '@netaug/core';
import {
  cropSample,
  detColorJitter,
  detCompose,
  detLetterbox,
  detRandomCrop,
  detRandomFlip,
  detResize,
  flipSample,
  jitterSample,
  letterboxSample,
  resizeSample,
  transformDetectionDataset,
} from './transforms';
import { unletterboxBox } from './letterbox';
import type { Box, DetectionDataset, DetectionSample } from './types';

/** A `h × w × c` sample whose pixel (y, x, k) is `(y * w + x) * c + k` / (h·w·c), with the given boxes. */
function sample(h: number, w: number, c: number, boxes: Box[]): DetectionSample {
  const image = new Float32Array(h * w * c);
  for (let i = 0; i < image.length; i++) image[i] = i / image.length;
  return { image, height: h, width: w, channels: c, boxes };
}
const px = (s: DetectionSample, y: number, x: number, k = 0) => s.image[(y * s.width + x) * s.channels + k];

describe('horizontal flip', () => {
  const s = sample(6, 20, 3, [
    { x: 2, y: 1, w: 5, h: 3, label: 0 },
    { x: 0, y: 0, w: 20, h: 6, label: 1, crowd: true },
    { x: 17.5, y: 2, w: 2.5, h: 1, label: 2, difficult: true },
  ]);

  it('mirrors boxes: x → W − x − w (hand-computed)', () => {
    const f = flipSample(s);
    expect(f.boxes).toEqual([
      { x: 13, y: 1, w: 5, h: 3, label: 0 },
      { x: 0, y: 0, w: 20, h: 6, label: 1, crowd: true },
      { x: 0, y: 2, w: 2.5, h: 1, label: 2, difficult: true },
    ]);
    expect(px(f, 2, 0, 1)).toBe(px(s, 2, 19, 1));
    expect(px(f, 5, 19, 2)).toBe(px(s, 5, 0, 2));
  });

  it('flipping twice gives the same boxes and pixels; the input is not modified', () => {
    const before = JSON.stringify(s.boxes);
    const ff = flipSample(flipSample(s));
    expect(ff.boxes).toEqual(s.boxes);
    expect(ff.image).toEqual(s.image);
    expect(JSON.stringify(s.boxes)).toBe(before);
  });

  it('detRandomFlip draws one number: p = 1 always flips, p = 0 never', () => {
    const rng = new Rng(1);
    expect(detRandomFlip(1).apply(s, rng).boxes[0].x).toBe(13);
    expect(detRandomFlip(0).apply(s, rng)).toBe(s);
    expect(() => detRandomFlip(1.5)).toThrow(/p must be in \[0, 1\], got 1.5 — /);
  });
});

describe('crop with box clipping and dropping', () => {
  // 20×20 image, window rows/columns [4, 14)
  const boxes: Box[] = [
    { x: 2, y: 2, w: 6, h: 6, label: 0 }, // clipped to [4, 8)²: 16 / 36 = 0.44 kept → (0, 0, 4, 4)
    { x: 10, y: 10, w: 8, h: 8, label: 1, area: 40 }, // [10, 14)²: 16 / 64 = 0.25 kept (not below) → (6, 6, 4, 4), area 10
    { x: 0, y: 12, w: 4, h: 4, label: 2 }, // x range [0, 4) ∩ [4, 14) is empty → dropped
    { x: 12, y: 4, w: 4, h: 4, label: 3, crowd: true }, // [12, 14) × [4, 8): 8 / 16 = 0.5 kept → (8, 0, 2, 4)
    { x: 0, y: 5, w: 5, h: 4, label: 4 }, // [4, 5) × [5, 9): 4 / 20 = 0.2 < 0.25 → dropped
  ];
  const s = sample(20, 20, 1, boxes);

  it('gives the hand-computed boxes and pixels', () => {
    const c = cropSample(s, { top: 4, left: 4, height: 10, width: 10 });
    expect([c.height, c.width, c.channels]).toEqual([10, 10, 1]);
    expect(c.boxes).toEqual([
      { x: 0, y: 0, w: 4, h: 4, label: 0 },
      { x: 6, y: 6, w: 4, h: 4, label: 1, area: 10 },
      { x: 8, y: 0, w: 2, h: 4, label: 3, crowd: true },
    ]);
    expect(px(c, 0, 0)).toBe(px(s, 4, 4));
    expect(px(c, 9, 3)).toBe(px(s, 13, 7));
  });

  it('minVisible decides: 0.5 keeps only the boxes with half their area inside', () => {
    expect(cropSample(s, { top: 4, left: 4, height: 10, width: 10 }, 0.5).boxes.map((b) => b.label)).toEqual([
      3,
    ]);
    expect(cropSample(s, { top: 4, left: 4, height: 10, width: 10 }, 0).boxes.map((b) => b.label)).toEqual([
      0, 1, 3, 4,
    ]);
  });

  it('a window beyond the image pads with 0', () => {
    const c = cropSample(s, { top: -2, left: 15, height: 4, width: 10 });
    expect(px(c, 0, 0)).toBe(0);
    expect(px(c, 2, 0)).toBe(px(s, 0, 15));
    expect(px(c, 2, 6)).toBe(0);
  });

  it('detRandomCrop is seeded: the same rng state gives the same crop; boxes stay inside', () => {
    const t = detRandomCrop({ scale: [0.5, 0.8] });
    const a = t.apply(s, new Rng(7));
    const b = t.apply(s, new Rng(7));
    expect(a).toEqual(b);
    expect(a.height).toBeGreaterThanOrEqual(10);
    expect(a.height).toBeLessThanOrEqual(16);
    for (const x of a.boxes) {
      expect(x.x).toBeGreaterThanOrEqual(0);
      expect(x.x + x.w).toBeLessThanOrEqual(a.width);
      expect(x.y + x.h).toBeLessThanOrEqual(a.height);
    }
  });
});

describe('resize, letterbox, colour jitter', () => {
  it('resize scales the boxes by the size ratios', () => {
    const s = sample(10, 20, 1, [{ x: 2, y: 1, w: 4, h: 2, label: 0, area: 6 }]);
    const r = resizeSample(s, 20, 10);
    expect([r.height, r.width]).toEqual([20, 10]);
    expect(r.boxes).toEqual([{ x: 1, y: 2, w: 2, h: 4, label: 0, area: 6 }]);
    expect(detResize([20, 10]).apply(s, new Rng(0)).boxes).toEqual(r.boxes);
  });

  it('letterbox 20×40 → 32×32: content 16×32 at row 8, padding = fill, boxes mapped and mapped back', () => {
    const s = sample(20, 40, 3, [{ x: 10, y: 5, w: 20, h: 10, label: 1 }]);
    const { sample: l, params } = letterboxSample(s, 32, 32, 0.25);
    expect([l.height, l.width, l.channels]).toEqual([32, 32, 3]);
    expect(l.boxes).toEqual([{ x: 8, y: 12, w: 16, h: 8, label: 1 }]);
    expect(px(l, 0, 0, 0)).toBe(0.25);
    expect(px(l, 7, 31, 2)).toBe(0.25);
    expect(px(l, 24, 5, 1)).toBe(0.25);
    expect(px(l, 8, 0, 0)).not.toBe(0.25);
    expect(unletterboxBox(l.boxes[0], params)).toEqual(s.boxes[0]);
    expect(detLetterbox(32, { fill: 0.25 }).apply(s, new Rng(0))).toEqual(l);
  });

  it('jitter: factors 1 are the identity; brightness scales and clamps; contrast 0 gives the mean luma', () => {
    const s: DetectionSample = {
      image: Float32Array.from([0.2, 0.4, 0.6, 0.8]),
      height: 2,
      width: 2,
      channels: 1,
      boxes: [{ x: 0, y: 0, w: 1, h: 1, label: 0 }],
    };
    expect(jitterSample(s, 1, 1).image).toEqual(s.image);
    expect(Array.from(jitterSample(s, 1.5, 1).image)).toEqual(
      [0.3, 0.6, 0.9, 1].map((v) => expect.closeTo(v, 6)),
    );
    expect(Array.from(jitterSample(s, 1, 0).image)).toEqual(
      [0.5, 0.5, 0.5, 0.5].map((v) => expect.closeTo(v, 6)),
    );
    expect(jitterSample(s, 1.5, 0.5).boxes).toEqual(s.boxes);
    const t = detColorJitter({ brightness: 0.4, contrast: 0.4 });
    expect(t.apply(s, new Rng(3))).toEqual(t.apply(s, new Rng(3)));
  });
});

describe('seeded pipelines', () => {
  const base: DetectionDataset = {
    size: 3,
    classNames: ['a', 'b'],
    get: (i) => sample(24, 32, 3, [{ x: 4 + i, y: 4, w: 10, h: 8, label: i % 2 }]),
  };
  const pipeline = detCompose([detRandomCrop(), detRandomFlip(), detColorJitter(), detLetterbox(16)]);

  it('a sample depends only on (seed, epoch, index)', async () => {
    const a = transformDetectionDataset(base, pipeline, { seed: 5, epoch: 1 });
    const b = transformDetectionDataset(base, pipeline, { seed: 5, epoch: 1 });
    for (let i = 0; i < 3; i++) expect(await b.get(i)).toEqual(await a.get(i));
    expect(await a.get(2)).toEqual(await a.get(2)); // no hidden state
    const other = transformDetectionDataset(base, pipeline, { seed: 5, epoch: 2 });
    const differs = await Promise.all([0, 1, 2].map(async (i) => JSON.stringify((await other.get(i)).boxes)));
    const same = await Promise.all([0, 1, 2].map(async (i) => JSON.stringify((await a.get(i)).boxes)));
    expect(differs).not.toEqual(same);
    const s = (await a.get(0)) as DetectionSample;
    expect([s.height, s.width, s.channels]).toEqual([16, 16, 3]);
  });
});
