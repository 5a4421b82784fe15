import { AUTO_RECOMPUTE_BUDGET_BYTES, decideRecompute } from '../src/run/recompute-policy';

describe('decideRecompute', () => {
  const est = { tinyFloatsPerImage: 1_000_000, augFloatsPerImage: 9_000_000, batch: 64, netaug: true };

  it('estimates (tiny + aug) floats × 4 bytes × 2 (forward + gradient) × batch', () => {
    // (1M + 9M) · 4 · 2 · 64 = 5.12e9 bytes
    expect(decideRecompute('auto', est).estimatedBytes).toBe(5_120_000_000);
    // the baseline trains the tiny model only: 1M · 4 · 2 · 64 = 5.12e8
    expect(decideRecompute('auto', { ...est, netaug: false }).estimatedBytes).toBe(512_000_000);
  });

  it('auto turns recomputing on above the budget only; true / false are kept', () => {
    expect(decideRecompute('auto', est).recompute).toBe(true);
    expect(decideRecompute('auto', { ...est, netaug: false }).recompute).toBe(false);
    expect(AUTO_RECOMPUTE_BUDGET_BYTES).toBe(2 * 1024 ** 3);
    expect(decideRecompute(false, est)).toMatchObject({
      recompute: false,
      reason: 'turned off (--no-recompute)',
    });
    expect(decideRecompute(true, { ...est, netaug: false }).recompute).toBe(true);
  });
});
