import type { Box } from '@netaug/detection';
import { countLocations, defaultSizeRanges, levelLayout, locations } from './levels';
import { assignBatchTargets, assignTargets } from './targets';

const box = (x: number, y: number, w: number, h: number, label = 0, more: Partial<Box> = {}): Box => ({
  x,
  y,
  w,
  h,
  label,
  ...more,
});

/** Indices of the positive locations. */
const positives = (labels: Int32Array) => Array.from(labels.keys()).filter((k) => labels[k] >= 0);

describe('levels', () => {
  it('lays out locations level by level, row-major, at (j + 0.5)·s', () => {
    const levels = levelLayout(
      32,
      32,
      [8, 16],
      [
        [0, 12],
        [12, Infinity],
      ],
    );
    expect(levels.map((l) => [l.stride, l.height, l.width])).toEqual([
      [8, 4, 4],
      [16, 2, 2],
    ]);
    expect(countLocations(levels)).toBe(20);
    const loc = locations(levels);
    expect(Array.from(loc.x.subarray(0, 5))).toEqual([4, 12, 20, 28, 4]);
    expect(Array.from(loc.y.subarray(0, 5))).toEqual([4, 4, 4, 4, 12]);
    expect(Array.from(loc.x.subarray(16))).toEqual([8, 24, 8, 24]);
    expect(Array.from(loc.y.subarray(16))).toEqual([8, 8, 24, 24]);
    expect(Array.from(loc.level.subarray(14, 18))).toEqual([0, 0, 1, 1]);
  });

  it('default size ranges are FCOS-style at 4× the stride; bad strides and sizes are refused', () => {
    expect(defaultSizeRanges([8, 16])).toEqual([
      [0, 32],
      [32, Infinity],
    ]);
    expect(defaultSizeRanges([8, 16, 32])).toEqual([
      [0, 32],
      [32, 64],
      [64, Infinity],
    ]);
    expect(() => levelLayout(40, 40, [8, 16])).toThrow(/not divisible by stride 16/);
    expect(() => levelLayout(32, 32, [16, 8])).toThrow(/increasing/);
  });
});

describe('assignTargets (FCOS), hand-computed', () => {
  // one level, stride 8, 32×32 input: locations at 4, 12, 20, 28 in x and y
  const one = levelLayout(32, 32, [8], [[0, Infinity]]);

  it('a box covers exactly the locations strictly inside it; ltrb / stride and centerness', () => {
    // x in (2, 18), y in (2, 14): locations x ∈ {4, 12}, y ∈ {4, 12} → indices 0, 1, 4, 5
    const t = assignTargets([box(2, 2, 16, 12, 3)], one, { centerSampling: false });
    expect(positives(t.labels)).toEqual([0, 1, 4, 5]);
    expect(t.positives).toBe(4);
    expect([t.labels[0], t.boxIndex[0], t.labels[2], t.boxIndex[2]]).toEqual([3, 0, -1, -1]);
    // (4, 4): l = 2, t = 2, r = 18 − 4 = 14, b = 14 − 4 = 10
    expect(Array.from(t.ltrb.subarray(0, 4))).toEqual([2 / 8, 2 / 8, 14 / 8, 10 / 8]);
    // (12, 4): l = 10, t = 2, r = 6, b = 10; (4, 12): 2, 10, 14, 2; (12, 12): 10, 10, 6, 2
    expect(Array.from(t.ltrb.subarray(4, 8))).toEqual([10 / 8, 2 / 8, 6 / 8, 10 / 8]);
    expect(Array.from(t.ltrb.subarray(16, 20))).toEqual([2 / 8, 10 / 8, 14 / 8, 2 / 8]);
    expect(Array.from(t.ltrb.subarray(20, 24))).toEqual([10 / 8, 10 / 8, 6 / 8, 2 / 8]);
    // centerness sqrt(min(l,r)/max(l,r) · min(t,b)/max(t,b))
    expect(t.centerness[0]).toBeCloseTo(Math.sqrt((2 / 14) * (2 / 10)), 6); // 0.169031
    expect(t.centerness[1]).toBeCloseTo(Math.sqrt((6 / 10) * (2 / 10)), 6); // 0.346410
    expect(t.centerness[4]).toBeCloseTo(0.169031, 6);
    expect(t.centerness[5]).toBeCloseTo(0.34641, 5);
    expect(t.centerness[2]).toBe(0);
    expect(Array.from(t.ltrb.subarray(8, 12))).toEqual([0, 0, 0, 0]);
  });

  it('a location on the box edge is not inside', () => {
    // x in [4, 20]: x = 4 and x = 20 lie on the edges → only x = 12; y in (0, 32) → every row
    const t = assignTargets([box(4, 0, 16, 32)], one, { centerSampling: false });
    expect(positives(t.labels)).toEqual([1, 5, 9, 13]);
  });

  it('center sampling keeps the locations within radius · stride of the center', () => {
    const whole = [box(0, 0, 32, 32)];
    expect(assignTargets(whole, one, { centerSampling: false }).positives).toBe(16);
    // center (16, 16), radius 1.5 · 8 = 12: strictly inside (4, 28)² → x, y ∈ {12, 20}
    const t = assignTargets(whole, one);
    expect(positives(t.labels)).toEqual([5, 6, 9, 10]);
    // the center region is clipped to the box: box x in (0, 10) → region (0, 10) — location x = 4 only
    const t2 = assignTargets([box(0, 0, 10, 32)], one, { centerSampling: 1.5 });
    expect(positives(t2.labels)).toEqual([4, 8]); // y ∈ (4, 28) → 12, 20
  });

  it('size ranges send a box to the level whose range holds max(l, t, r, b)', () => {
    // stride 8 (4×4, range [0, 12]) and stride 16 (2×2 at 8 and 24, range [12, ∞))
    const levels = levelLayout(
      32,
      32,
      [8, 16],
      [
        [0, 12],
        [12, Infinity],
      ],
    );
    const big = box(0, 0, 32, 32, 0);
    const small = box(2, 2, 8, 8, 1);
    // the big box: every stride-8 location has max distance ≥ 20 (the central (12, 12): l = 12, r = 20) → none
    // there; at stride 16, (8, 8): max(8, 8, 24, 24) = 24 ∈ [12, ∞) → all four
    const tb = assignTargets([big], levels, { centerSampling: false });
    expect(positives(tb.labels)).toEqual([16, 17, 18, 19]);
    // the small box: (4, 4) has l = t = 2, r = b = 6 → max 6 ∈ [0, 12] (stride 8); at stride 16 (8, 8) has
    // l = t = 6, r = b = 2 → max 6 < 12 → not there
    const ts = assignTargets([small], levels, { centerSampling: false });
    expect(positives(ts.labels)).toEqual([0]);
    // together: each box where its size fits, no conflict
    const t = assignTargets([big, small], levels, { centerSampling: false });
    expect(positives(t.labels)).toEqual([0, 16, 17, 18, 19]);
    expect([t.boxIndex[0], t.boxIndex[16]]).toEqual([1, 0]);
    expect(Array.from(t.ltrb.subarray(16 * 4, 16 * 4 + 4))).toEqual([8 / 16, 8 / 16, 24 / 16, 24 / 16]);
  });

  it('overlapping boxes: the smaller one wins; on equal areas the first listed', () => {
    const big = box(0, 0, 32, 32, 0); // area 1024
    const inner = box(8, 8, 16, 16, 1); // area 256; strictly inside it: x, y ∈ {12, 20} → 5, 6, 9, 10
    for (const list of [
      [big, inner],
      [inner, big],
    ]) {
      const t = assignTargets(list, one, { centerSampling: false });
      expect(t.positives).toBe(16);
      const onInner = Array.from(t.labels.keys()).filter((k) => t.labels[k] === 1);
      expect(onInner).toEqual([5, 6, 9, 10]);
      expect(t.boxIndex[5]).toBe(list.indexOf(inner));
      expect(t.boxIndex[0]).toBe(list.indexOf(big));
      // (12, 12) against the inner box: l = t = 4, r = b = 12
      expect(Array.from(t.ltrb.subarray(20, 24))).toEqual([0.5, 0.5, 1.5, 1.5]);
    }
    // equal areas (256): (12, 12) is inside both; the first listed takes it
    const a = box(0, 0, 16, 16, 0);
    const b = box(8, 8, 16, 16, 1);
    expect(assignTargets([a, b], one, { centerSampling: false }).labels[5]).toBe(0);
    expect(assignTargets([b, a], one, { centerSampling: false }).labels[5]).toBe(1);
  });

  it('crowd and difficult boxes are never positives', () => {
    const t = assignTargets(
      [box(0, 0, 32, 32, 0, { crowd: true }), box(0, 0, 16, 16, 1, { difficult: true })],
      one,
      { centerSampling: false },
    );
    expect(t.positives).toBe(0);
    expect(t.labels.every((l) => l === -1)).toBe(true);
  });

  it('a batch concatenates the images', () => {
    const t = assignBatchTargets([[box(2, 2, 16, 12, 3)], [], [box(0, 0, 32, 32, 1)]], one, {
      centerSampling: false,
    });
    expect(t.numLocations).toBe(16);
    expect(t.labels.length).toBe(48);
    expect(t.positives).toBe(4 + 0 + 16);
    expect(positives(t.labels).slice(0, 4)).toEqual([0, 1, 4, 5]);
    expect(t.labels.subarray(16, 32).every((l) => l === -1)).toBe(true);
    expect(t.labels.subarray(32).every((l) => l === 1)).toBe(true);
    expect(Array.from(t.ltrb.subarray(32 * 4, 32 * 4 + 4))).toEqual([0.5, 0.5, 3.5, 3.5]);
  });
});
