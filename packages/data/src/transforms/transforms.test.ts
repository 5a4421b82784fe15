import { Rng } from '@netaug/core';
import type { Image } from '../types';
import {
  centerCrop,
  compose,
  flipHorizontal,
  grayscale,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  randomResizedCrop,
  resize,
  resizeBilinear,
  sampleResizedCropWindow,
  toFloat,
  toRGB,
  transformFromSpec,
} from './index';

const img = (h: number, w: number, c: number, data: number[]): Image => ({
  data: Float32Array.from(data),
  height: h,
  width: w,
  channels: c,
});
const arr = (i: Image) => Array.from(i.data);
const rng = () => new Rng(1);

describe('transforms (hand-computed references)', () => {
  it('horizontal flip of a 2×3 image (1 and 2 channels)', () => {
    expect(arr(flipHorizontal(img(2, 3, 1, [1, 2, 3, 4, 5, 6])))).toEqual([3, 2, 1, 6, 5, 4]);
    expect(arr(flipHorizontal(img(1, 3, 2, [1, 10, 2, 20, 3, 30])))).toEqual([3, 30, 2, 20, 1, 10]);
    const always = randomHorizontalFlip(1).apply(img(2, 3, 1, [1, 2, 3, 4, 5, 6]), rng());
    expect(arr(always)).toEqual([3, 2, 1, 6, 5, 4]);
    const never = randomHorizontalFlip(0).apply(img(2, 3, 1, [1, 2, 3, 4, 5, 6]), rng());
    expect(arr(never)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('center crop: 4×4 → 2×2 takes rows/cols 1–2; 5×5 → 2×2 offset round(1.5) = 2 (Python rounding, as torchvision)', () => {
    const x = img(
      4,
      4,
      1,
      Array.from({ length: 16 }, (_, i) => i),
    );
    expect(arr(centerCrop(2).apply(x, rng()))).toEqual([5, 6, 9, 10]);
    const y = img(
      5,
      5,
      1,
      Array.from({ length: 25 }, (_, i) => i),
    );
    expect(arr(centerCrop(2).apply(y, rng()))).toEqual([12, 13, 17, 18]);
    expect(arr(centerCrop([1, 3]).apply(y, rng()))).toEqual([11, 12, 13]);
    // larger than the image: zero padding around
    expect(arr(centerCrop(3).apply(img(1, 1, 1, [7]), rng()))).toEqual([0, 0, 0, 0, 7, 0, 0, 0, 0]);
  });

  it('normalize per channel', () => {
    const out = normalize([0.5, 0.25], [0.5, 0.25]).apply(img(1, 2, 2, [1, 0.5, 0, 0]), rng());
    expect(arr(out)).toEqual([1, 1, -1, -1]);
  });

  it('bilinear resize 2×2 → 4×4, half-pixel (align_corners=False) convention = torch.nn.functional.interpolate', () => {
    // src coordinate = (dst + 0.5) · in/out − 0.5, clamped: x ∈ {−0.25→0, 0.25, 0.75, 1.25→1}
    const out = resize(4).apply(img(2, 2, 1, [0, 1, 2, 3]), rng());
    expect(arr(out)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
    // 4×4 → 2×2 samples at 0.5 and 2.5: the mean of each 2×2 block
    const down = resizeBilinear(
      img(
        4,
        4,
        1,
        Array.from({ length: 16 }, (_, i) => i),
      ),
      2,
      2,
    );
    expect(arr(down)).toEqual([2.5, 4.5, 10.5, 12.5]);
    // channels interpolate independently
    const rgb = resizeBilinear(img(1, 2, 2, [0, 10, 4, 20]), 1, 4);
    expect(arr(rgb)).toEqual([0, 10, 1, 12.5, 3, 17.5, 4, 20]);
  });

  it('grayscale uses 0.299 R + 0.587 G + 0.114 B; toRGB repeats', () => {
    const g = grayscale(1).apply(img(1, 1, 3, [1, 0.5, 0.25]), rng());
    expect(g.channels).toBe(1);
    expect(g.data[0]).toBeCloseTo(0.299 + 0.2935 + 0.0285, 6);
    expect(arr(toRGB().apply(img(1, 2, 1, [0.1, 0.9]), rng()))).toEqual(
      arr(img(1, 2, 3, [0.1, 0.1, 0.1, 0.9, 0.9, 0.9])),
    );
    expect(grayscale(3).outputShape([4, 4, 3])).toEqual([4, 4, 3]);
  });

  it('random crop with padding: a full-size crop of the padded image shows the padding (constant, edge, reflect)', () => {
    const x = img(1, 3, 1, [1, 2, 3]);
    const constant = randomCrop([5, 7], { padding: 2 }).apply(x, rng());
    expect(arr(constant).slice(14, 21)).toEqual([0, 0, 1, 2, 3, 0, 0]);
    const reflect = randomCrop([5, 7], { padding: 2, paddingMode: 'reflect' }).apply(x, rng());
    expect(arr(reflect).slice(14, 21)).toEqual([3, 2, 1, 2, 3, 2, 1]);
    const edge = randomCrop([5, 7], { padding: 2, paddingMode: 'edge' }).apply(x, rng());
    expect(arr(edge).slice(0, 7)).toEqual([1, 1, 1, 2, 3, 3, 3]);
    // a 28×28 image padded by 4 and cropped to 28: every output is a shifted window
    const big = img(
      28,
      28,
      1,
      Array.from({ length: 784 }, (_, i) => i + 1),
    );
    const r = new Rng(5);
    for (let k = 0; k < 20; k++) {
      const out = randomCrop(28, { padding: 4 }).apply(big, r);
      const first = out.data.find((v) => v > 0)!;
      const idx = out.data.indexOf(first);
      const dy = Math.floor((first - 1) / 28) - Math.floor(idx / 28);
      const dx = ((first - 1) % 28) - (idx % 28);
      expect(Math.abs(dy)).toBeLessThanOrEqual(4);
      expect(Math.abs(dx)).toBeLessThanOrEqual(4);
      for (let i = 0; i < 784; i++) {
        const y = Math.floor(i / 28) + dy;
        const x2 = (i % 28) + dx;
        const expected = y >= 0 && y < 28 && x2 >= 0 && x2 < 28 ? y * 28 + x2 + 1 : 0;
        if (out.data[i] !== expected) throw new Error(`mismatch at ${i}`);
      }
    }
  });

  it('random-resized-crop: windows stay inside and respect scale/ratio; full-scale ratio-1 equals resize', () => {
    const r = new Rng(3);
    for (let k = 0; k < 500; k++) {
      const { top, left, h, w } = sampleResizedCropWindow(50, 80, [0.08, 1], [3 / 4, 4 / 3], r);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(top + h).toBeLessThanOrEqual(50);
      expect(left + w).toBeLessThanOrEqual(80);
    }
    // torchvision fallback: a 10×100 strip cannot fit ratio ≤ 4/3 → center crop of width round(10·4/3) = 13
    expect(sampleResizedCropWindow(10, 100, [0.9, 1], [3 / 4, 4 / 3], r)).toEqual({
      top: 0,
      left: 43,
      h: 10,
      w: 13,
    });
    const x = img(
      6,
      6,
      1,
      Array.from({ length: 36 }, (_, i) => i),
    );
    const rrc = randomResizedCrop(3, { scale: [1, 1], ratio: [1, 1] }).apply(x, new Rng(0));
    expect(arr(rrc)).toEqual(arr(resize(3).apply(x, new Rng(0))));
  });

  it('toFloat scales 8-bit data; compose chains shapes and round-trips through its spec', () => {
    const u8 = {
      data: Uint8Array.from([0, 255, 51]) as unknown as Float32Array,
      height: 1,
      width: 3,
      channels: 1,
    };
    expect(arr(toFloat().apply(u8, rng()))).toEqual([0, 1, 0.2].map(Math.fround));
    const t = compose([randomResizedCrop(8), randomHorizontalFlip(), normalize([0.5], [0.25])]);
    expect(t.outputShape([20, 30, 1])).toEqual([8, 8, 1]);
    const rebuilt = transformFromSpec(JSON.parse(JSON.stringify(t.spec)));
    const x = img(
      20,
      30,
      1,
      Array.from({ length: 600 }, (_, i) => (i % 17) / 17),
    );
    expect(arr(rebuilt.apply(x, new Rng(9)))).toEqual(arr(t.apply(x, new Rng(9))));
    const custom = compose([{ name: 'mine', outputShape: (s) => s, apply: (i) => i }]);
    expect(custom.spec).toBeUndefined();
  });
});
