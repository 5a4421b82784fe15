import { sampleActiveConfig, type AugmentSpace } from './active-config';
import { Rng } from './rng';

const space: AugmentSpace = { widthMults: [1, 1.8, 2.6], expandFactors: [1, 1.6, 2.2, 2.8] };
const counts = { width: 40, expand: 30 };

test('min and max take the first and last factor everywhere, without drawing', () => {
  expect(sampleActiveConfig('min', space, { width: 2, expand: 3 })).toEqual({
    width: [1, 1],
    expand: [1, 1, 1],
  });
  expect(sampleActiveConfig('max', space, { width: 2, expand: 1 })).toEqual({
    width: [2.6, 2.6],
    expand: [2.8],
  });
});

test('min_w fixes every width at 1.0 and samples expand factors; min_e the reverse', () => {
  const rng = new Rng(3);
  for (let k = 0; k < 20; k++) {
    const w = sampleActiveConfig('min_w', space, counts, rng);
    expect(w.width).toEqual(new Array(counts.width).fill(1));
    expect(w.expand).toHaveLength(counts.expand);
    const e = sampleActiveConfig('min_e', space, counts, rng);
    expect(e.expand).toEqual(new Array(counts.expand).fill(1));
    expect(e.width).toHaveLength(counts.width);
    for (const v of w.expand) expect(space.expandFactors).toContain(v);
    for (const v of e.width) expect(space.widthMults).toContain(v);
  }
  // sampled lists really vary: over 20 × 30 draws every expand factor appears (chance of missing one ≈ 4·0.75^600)
  const seen = new Set(
    Array.from({ length: 20 }, () => sampleActiveConfig('min_w', space, counts, rng).expand).flat(),
  );
  expect([...seen].sort()).toEqual(space.expandFactors);
});

test('draw order: widths first, then expand factors, one rng.choice each — and nothing for fixed lists', () => {
  const a = new Rng(11);
  const b = new Rng(11);
  const got = sampleActiveConfig('random', space, { width: 3, expand: 2 }, a);
  const want = {
    width: [b.choice(space.widthMults), b.choice(space.widthMults), b.choice(space.widthMults)],
    expand: [b.choice(space.expandFactors), b.choice(space.expandFactors)],
  };
  expect(got).toEqual(want);
  // min_w draws only the expand factors: the generator then stands where 2 draws would leave it
  const c = new Rng(5);
  const d = new Rng(5);
  expect(sampleActiveConfig('min_w', space, { width: 3, expand: 2 }, c).expand).toEqual([
    d.choice(space.expandFactors),
    d.choice(space.expandFactors),
  ]);
  expect(c.uniform()).toBe(d.uniform());
});

test('a sampling mode without an Rng, or an unknown mode, is INVALID_ARGUMENT naming the fix', () => {
  expect(() => sampleActiveConfig('min_e', space, counts)).toThrow(
    /'min_e' mode samples factors and needs an Rng/,
  );
  expect(() => sampleActiveConfig('biggest' as never, space, counts)).toThrow(
    /Unknown active mode 'biggest'.*min, max, random, min_w, min_e/,
  );
});
