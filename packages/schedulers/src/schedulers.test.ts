import { NetAugError, Rng } from '@netaug/core';
import { createAugmentationScheduler, createLrSchedule } from './index';

describe('AugmentationScheduler', () => {
  const choices = { width: 3, expand: 2 };

  it('follows the documented mode sequence: random, then min_w from stopWidthEpoch, null from stopAugEpoch', () => {
    const s = createAugmentationScheduler({ epochs: 10, stopAugEpoch: 8 });
    expect(s.config.stopWidthEpoch).toBe(5); // official: half of the epochs
    const modes = Array.from({ length: 10 }, (_, e) => s.sample(e, 0, new Rng(e), choices)?.mode ?? null);
    expect(modes).toEqual([
      'random',
      'random',
      'random',
      'random',
      'random',
      'min_w',
      'min_w',
      'min_w',
      null,
      null,
    ]);
  });

  it('samples from the configured lists; min_w fixes widths at 1.0; defaults are the official factors', () => {
    const s = createAugmentationScheduler({ epochs: 4 });
    expect(s.config.widthMults).toEqual([1, 1.8, 2.6]);
    expect(s.config.expandFactors).toEqual([1, 1.6, 2.2, 2.8]);
    expect(s.config.alpha).toBe(1);
    expect(s.config.numAugModels).toBe(1);
    const rng = new Rng(1);
    const seenW = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = s.sample(0, i, rng, choices)!;
      expect(d.configs).toHaveLength(1);
      d.configs[0].width.forEach((w) => seenW.add(w));
      const m = s.sample(3, i, rng, choices)!;
      expect(m.mode).toBe('min_w');
      expect(m.configs[0].width).toEqual([1, 1, 1]);
      m.configs[0].expand.forEach((e) => expect([1, 1.6, 2.2, 2.8]).toContain(e));
    }
    expect([...seenW].sort()).toEqual([1, 1.8, 2.6]);
  });

  it('same seed → same configs; numAugModels and alpha are honoured', () => {
    const s = createAugmentationScheduler({ epochs: 2, numAugModels: 2, alpha: 0.5, widthMults: [1, 2] });
    const run = (seed: number) =>
      Array.from({ length: 20 }, (_, i) => s.sample(0, i, new Rng(seed + i), choices));
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    const d = s.sample(0, 0, new Rng(0), choices)!;
    expect(d.alpha).toBe(0.5);
    expect(d.configs).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(s.getState())).config.stopWidthEpoch).toBe(1);
  });

  it('rejects bad config with an error naming the key', () => {
    const bad = (c: unknown, re: RegExp) => {
      try {
        createAugmentationScheduler(c as never);
        throw new Error('no throw');
      } catch (e) {
        expect(e).toBeInstanceOf(NetAugError);
        expect((e as NetAugError).code).toBe('INVALID_CONFIG');
        expect((e as Error).message).toMatch(re);
      }
    };
    bad({ epochs: 10, widthMults: [1.5, 2] }, /augmentation\.widthMults: .*does not start with 1\.0/);
    bad({ epochs: 10, alpha: -1 }, /augmentation\.alpha/);
    bad({ epochs: 10, numAugModel: 2 }, /numAugModel/);
    bad({}, /augmentation\.epochs/);
  });
});

describe('LR schedules', () => {
  it('cosine with linear warm-up per step at hand-computed points', () => {
    // 10 epochs × 4 steps, 2 warm-up epochs: W = 8 warm-up steps, D = 32 cosine steps.
    const s = createLrSchedule({
      type: 'cosine',
      baseLr: 0.1,
      epochs: 10,
      warmupEpochs: 2,
      stepsPerEpoch: 4,
    });
    expect(s.at(0, 0)).toBeCloseTo(0.1 / 8, 12); // warm-up start: base · 1/W
    expect(s.at(0, 3)).toBeCloseTo(0.05, 12); // half-way through the warm-up
    expect(s.at(1, 3)).toBeCloseTo(0.1, 12); // warm-up end reaches base
    expect(s.at(2, 0)).toBeCloseTo(0.1, 12); // cosine start
    expect(s.at(6, 0)).toBeCloseTo(0.05, 12); // cosine mid-point: t − W = 16 = D/2
    expect(s.at(9, 3)).toBeCloseTo(0.05 * (1 + Math.cos((Math.PI * 31) / 32)), 12); // last step
    expect(s.atGlobalStep(40)).toBeCloseTo(0, 12); // end
  });

  it('official recipe numbers: 155 epochs, 5 warm-up, lr 0.4', () => {
    const s = createLrSchedule({
      type: 'cosine',
      baseLr: 0.4,
      epochs: 155,
      warmupEpochs: 5,
      stepsPerEpoch: 625,
    });
    expect(s.at(0, 0)).toBeCloseTo(0.4 / 3125, 12);
    expect(s.at(4, 624)).toBeCloseTo(0.4, 12);
    expect(s.at(80, 0)).toBeCloseTo(0.2, 12);
  });

  it('step and constant schedules; warmupLr / minLr', () => {
    const st = createLrSchedule({ type: 'step', baseLr: 1, stepsPerEpoch: 2, stepEpochs: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6].map((e) => st.at(e, 1))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(createLrSchedule({ type: 'constant', lr: 0.3 }).at(7, 5)).toBe(0.3);
    const c = createLrSchedule({
      type: 'cosine',
      baseLr: 1,
      minLr: 0.1,
      warmupLr: 0.2,
      epochs: 3,
      warmupEpochs: 1,
      stepsPerEpoch: 2,
    });
    expect(c.at(0, 0)).toBeCloseTo(0.6, 12);
    expect(c.atGlobalStep(6)).toBeCloseTo(0.1, 12);
  });

  it('bad config names the key', () => {
    expect(() =>
      createLrSchedule({ type: 'cosine', baseLr: 0.1, epochs: 3, warmupEpochs: 3, stepsPerEpoch: 1 }),
    ).toThrow(/lrSchedule\.warmupEpochs: must be less than epochs/);
    expect(() => createLrSchedule({ type: 'cosine', baseLr: -1, epochs: 3, stepsPerEpoch: 1 })).toThrow(
      /lrSchedule\.baseLr/,
    );
    expect(() => createLrSchedule({ type: 'linear' } as never)).toThrow(/lrSchedule\.type/);
  });
});
