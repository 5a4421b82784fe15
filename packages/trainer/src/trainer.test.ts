import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, decodeModelIR, validateModelIR } from '@netaug/core';
import sharp from 'sharp';
import { bestCheckpoint, csvLogger, earlyStopping, progress, type Callback } from './callbacks';
import { loadCheckpoint } from './checkpoint';
import { plotComparison } from './plots';
import { labelSmoothing, netaug, type Strategy } from './strategies';
import { Trainer, type TrainerOptions } from './trainer';
import { removeTmpDirs, setup, tmpDir, useCpu, values } from './test-utils';
import { ArrayLoader } from './testing/array-loader';
import { textureTask } from './testing/synthetic';

beforeAll(useCpu);
afterAll(removeTmpDirs);

const sgd = { type: 'sgd' as const, momentum: 0.9, nesterov: true, weightDecay: 4e-5 };

function trainer(s: ReturnType<typeof setup>, extra: Partial<TrainerOptions> = {}, epochs = 3): Trainer {
  return new Trainer({
    supernet: s.supernet,
    trainLoader: s.trainLoader,
    valLoader: s.valLoader,
    optimizer: sgd,
    lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
    strategies: [netaug({ epochs, stopWidthEpoch: 1 }), labelSmoothing(0.1)],
    bnReestimation: { images: 32 },
    plots: false,
    ...extra,
  });
}

const weightsOf = (t: Trainer) =>
  Object.fromEntries(t.supernet.variables().map((v) => [v.name, values(v.variable)]));
const withoutTime = (h: unknown[]) => h.map((r) => ({ ...(r as object), seconds: 0 }));

/** Test images of the texture task, disjoint from train and val (other seed). */
function testLoader(): ArrayLoader {
  return new ArrayLoader({ ...textureTask(40, { seed: 7 }), batchSize: 32, shuffle: false });
}

/** Counts how often a loader is iterated from its first batch (a full read). */
function countingReads(loader: ArrayLoader): { loader: ArrayLoader; reads: () => number } {
  let reads = 0;
  const it = loader[Symbol.asyncIterator].bind(loader);
  loader[Symbol.asyncIterator] = () => {
    reads++;
    return it();
  };
  return { loader, reads: () => reads };
}

describe('Trainer', () => {
  it("select 'best-val': the run ends with the selected epoch's model as evaluated then; the test data is read once, at the end", async () => {
    for (const select of ['best-val', 'last'] as const) {
      const s = setup();
      const test = countingReads(testLoader());
      const dir = tmpDir(`select-${select}`);
      // 'max' of the validation loss selects the worst epoch — not the last one here — to check the mechanics
      const t = trainer(s, {
        runDir: dir,
        testLoader: test.loader,
        select,
        monitor: 'val.loss',
        monitorMode: 'max',
      });
      const summary = await t.fit({ epochs: 4 });
      const losses = t.history.map((r) => r.val!.loss);
      const want = select === 'last' ? 3 : losses.indexOf(Math.max(...losses));
      if (select === 'best-val') expect(want).not.toBe(3);
      expect(summary.final!.selected).toEqual({ epoch: want, rule: select });
      // the very model of that epoch: BN statistics as re-estimated then, so the same figures to the bit
      expect(summary.final!.val).toEqual(t.history[want].val);
      expect(test.reads()).toBe(1);
      expect(summary.final!.test!.count).toBe(40);
      // the trainer keeps the last weights (a later fit continues from them)
      const ir = decodeModelIR(new Uint8Array(fs.readFileSync(path.join(dir, 'model.nair'))));
      expect(ir.metadata!.selectedEpoch).toBe(want);
      const ck = loadCheckpoint(path.join(dir, 'checkpoint.bin'));
      expect(ck.selected!.epoch).toBe(want);
      for (const v of t.supernet.variables().filter((x) => x.trainable))
        expect(
          Buffer.from(values(v.variable).buffer).equals(Buffer.from(ck.variables[v.name].data.buffer)),
        ).toBe(true);
      s.supernet.dispose();
    }
  });

  it('checkpointEvery: a checkpoint every N epochs and after the last one', async () => {
    const s = setup();
    const saved: number[] = [];
    const spy: Callback = { name: 'spy', onCheckpoint: (_c, { epoch }) => void saved.push(epoch) };
    const dir = tmpDir('every');
    await trainer(s, { runDir: dir, checkpointEvery: 2, callbacks: [spy] }).fit({ epochs: 5 });
    expect(saved).toEqual([1, 3, 4]);
    expect(loadCheckpoint(path.join(dir, 'checkpoint.bin')).epoch).toBe(5);
    s.supernet.dispose();
  });

  it('without validation data: no selection, BN re-estimated at the end, the test data read once', async () => {
    const s = setup();
    const test = countingReads(testLoader());
    const t = trainer(s, { valLoader: undefined, testLoader: test.loader });
    const summary = await t.fit({ epochs: 2 });
    expect(summary.final!.selected).toEqual({ epoch: 1, rule: 'last' });
    expect(summary.final!.val).toBeUndefined();
    expect(summary.final!.test!.count).toBe(40);
    expect(test.reads()).toBe(1);
    expect(t.history.every((r) => r.val === undefined)).toBe(true);
    s.supernet.dispose();
  });

  it('kill after epoch 1 + resume in a new Trainer = uninterrupted run, bit for bit (weights, slots, metrics)', async () => {
    const dirA = tmpDir('full');
    const out: string[] = [];
    const sink = { write: (s: string) => void out.push(s), isTTY: false } as unknown as NodeJS.WritableStream;
    const a = trainer(setup(), {
      runDir: dirA,
      testLoader: testLoader(),
      callbacks: [progress({ stream: sink })], // cli-progress bar, no TTY
    });
    const summaryA = await a.fit({ epochs: 3 });
    expect(out.join('')).toMatch(/epoch 3\/3 train loss/);

    const dirB = tmpDir('killed');
    const kill: Callback = {
      name: 'kill',
      onCheckpoint: (_ctx, { epoch }) => {
        if (epoch === 0) throw new Error('killed');
      },
    };
    await expect(trainer(setup(), { runDir: dirB, callbacks: [kill] }).fit({ epochs: 3 })).rejects.toThrow(
      'killed',
    );
    expect(loadCheckpoint(path.join(dirB, 'checkpoint.bin')).epoch).toBe(1);
    // a fresh process: different initial weights, fresh loaders; everything comes from the checkpoint
    const b = trainer(setup({ seed: 99 }), { runDir: dirB, testLoader: testLoader() });
    const summaryB = await b.fit({ epochs: 3, resume: true });
    // the selected (best-validation) model survived the kill: same epoch, same figures on val and test
    expect(summaryB.final).toEqual(summaryA.final);
    expect(summaryA.final!.test!.count).toBe(40);

    const wa = weightsOf(a);
    const wb = weightsOf(b);
    for (const k of Object.keys(wa))
      expect(Buffer.from(wb[k].buffer).equals(Buffer.from(wa[k].buffer))).toBe(true);
    const sa = a.optimizer.getState();
    const sb = b.optimizer.getState();
    expect(sb.iterations).toBe(sa.iterations);
    for (const k of Object.keys(sa.slots))
      expect(Array.from(sb.slots[k].momentum.data)).toEqual(Array.from(sa.slots[k].momentum.data));
    expect(withoutTime(b.history)).toEqual(withoutTime(a.history));
    expect(b.rng.getState()).toEqual(a.rng.getState());
    const lines = (d: string) =>
      fs
        .readFileSync(path.join(d, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(withoutTime(lines(dirB))).toEqual(withoutTime(lines(dirA)));
    a.supernet.dispose();
    b.supernet.dispose();
  });

  it('NaN loss stops with NetAugError NUMERIC naming epoch and step; the last good checkpoint is intact', async () => {
    const dir = tmpDir('nan');
    const poison: Strategy = {
      name: 'poison',
      lossTerms: (ctx): Record<string, tf.Scalar> =>
        ctx.epoch === 1 && ctx.step === 2 ? { poison: tf.scalar(NaN) } : {},
    };
    let good: Buffer | null = null;
    const grab: Callback = {
      name: 'grab',
      onCheckpoint: (_c, { file }) => void (good = fs.readFileSync(file)),
    };
    const s = setup();
    const t = trainer(s, { runDir: dir, strategies: [poison], callbacks: [grab] });
    const before = tf.memory().numTensors;
    const err = await t.fit({ epochs: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetAugError);
    expect((err as NetAugError).code).toBe('NUMERIC');
    expect((err as Error).message).toMatch(/epoch 1, step 2/);
    expect(fs.readFileSync(path.join(dir, 'checkpoint.bin')).equals(good!)).toBe(true);
    expect(loadCheckpoint(path.join(dir, 'checkpoint.bin')).epoch).toBe(1);
    expect(tf.memory().numTensors).toBe(before); // nothing leaked by the failed step
    s.supernet.dispose();
  });

  it('numTensors is unchanged across a training epoch and an evaluation', async () => {
    const s = setup();
    const start = tf.memory().numTensors;
    const t = trainer(s);
    const before = tf.memory().numTensors;
    t.sortChannels();
    await t.trainEpoch(0);
    await t.evaluateTiny();
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    expect(tf.memory().numTensors).toBe(start);
    s.supernet.dispose();
  });

  it("sortChannels 'weights-and-slots': each channel's momentum buffer follows its channel; 'weights-only' does not", async () => {
    for (const mode of ['weights-and-slots', 'weights-only'] as const) {
      const s = setup();
      const t = trainer(s, { sortChannels: 'none' });
      await t.trainEpoch(0); // non-zero momentum everywhere
      const w0 = values(s.supernet.v('fc/kernel'));
      const m0 = values(t.optimizer.getSlot('fc/kernel', 'momentum')!);
      const k = s.supernet.numClasses;
      const rows = s.supernet.max.expand;
      const row = (a: Float32Array, r: number) => Array.from(a.subarray(r * k, (r + 1) * k));
      const sorted = new Trainer({ ...trainerOptions(s), sortChannels: mode });
      // share the optimizer state of `t`
      sorted.optimizer.setState(t.optimizer.getState());
      sorted.sortChannels();
      const w1 = values(s.supernet.v('fc/kernel'));
      const m1 = values(sorted.optimizer.getSlot('fc/kernel', 'momentum')!);
      let moved = 0;
      for (let r = 0; r < rows; r++) {
        // find where row r of the old weights went
        const src = [...Array(rows).keys()].find((q) => row(w0, q).join() === row(w1, r).join())!;
        if (src !== r) moved++;
        expect(row(m1, r)).toEqual(mode === 'weights-and-slots' ? row(m0, src) : row(m0, r));
      }
      expect(moved).toBeGreaterThan(0);
      s.supernet.dispose();
    }
  });

  it('bad config → NetAugError naming the key', () => {
    const s = setup();
    const expectKey = (extra: Partial<TrainerOptions>, re: RegExp) => {
      try {
        trainer(s, extra);
        throw new Error('no throw');
      } catch (e) {
        expect((e as NetAugError).code).toBe('INVALID_CONFIG');
        expect((e as Error).message).toMatch(re);
      }
    };
    expectKey({ sortChannels: 'sometimes' as never }, /trainer\.sortChannels/);
    expectKey({ bnReestimation: { images: -5 } }, /trainer\.bnReestimation\.images/);
    expectKey({ optimizer: { type: 'sgd', weightDecay: -1 } }, /optimizer\.weightDecay/);
    expectKey({ lrSchedule: { type: 'cosine', baseLr: 0 } }, /lrSchedule\.baseLr/);
    expectKey({ epochz: 3 } as never, /epochz/);
    s.supernet.dispose();
  });

  it('learns the synthetic task with baseline and NetAug; writes the run folder, plots and a comparison', async () => {
    const root = tmpDir('learn');
    const results: Record<string, { top1: number; shared: number; seconds: number }> = {};
    const lines: string[] = [];
    const sink = { write: (s: string) => void lines.push(s) } as unknown as NodeJS.WritableStream;
    for (const name of ['baseline', 'netaug'] as const) {
      const s = setup({ train: 256, val: 128, batchSize: 32 });
      const epochs = 6;
      const t = new Trainer({
        supernet: s.supernet,
        trainLoader: s.trainLoader,
        valLoader: s.valLoader,
        optimizer: sgd,
        lrSchedule: { type: 'cosine', baseLr: 0.2, warmupEpochs: 1 },
        strategies: name === 'netaug' ? [netaug({ epochs }), labelSmoothing(0.1)] : [labelSmoothing(0.1)],
        callbacks: [
          progress({ plain: true, stream: sink }),
          csvLogger(),
          bestCheckpoint(),
          earlyStopping({ patience: 10 }),
        ],
        runDir: path.join(root, name),
        bnReestimation: { images: 128 },
      });
      const summary = await t.fit({ epochs });
      results[name] = {
        top1: summary.final!.val!.top1,
        shared: summary.final!.sharedStats!.top1,
        seconds: summary.seconds,
      };
      expect(summary.final!.val!.top1).toBeGreaterThanOrEqual(0.9);
      s.supernet.dispose();
    }
    const dir = path.join(root, 'netaug');
    for (const f of [
      'metrics.jsonl',
      'metrics.csv',
      'config.json',
      'checkpoint.bin',
      'checkpoint.json',
      'best.bin',
      'model.nair',
      'summary.json',
      'loss.svg',
      'loss.png',
      'accuracy.svg',
      'accuracy.png',
    ]) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
    expect(fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    const ir = validateModelIR(decodeModelIR(new Uint8Array(fs.readFileSync(path.join(dir, 'model.nair')))));
    expect(ir.nodes.find((n) => n.name === 'conv1')!.op).toBe('conv2d');
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    expect(summary.final.sharedStats.top1).toBeGreaterThan(0);
    expect(summary.final.val.top1).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).strategies[0].name).toBe(
      'netaug',
    );
    for (const f of ['loss.png', 'accuracy.png']) {
      const meta = await sharp(path.join(dir, f)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(100);
    }
    const cmp = await plotComparison(
      { baseline: path.join(root, 'baseline'), netaug: dir },
      path.join(root, 'comparison'),
    );
    expect((await sharp(cmp.png).metadata()).format).toBe('png');
    expect(fs.readFileSync(cmp.svg, 'utf8')).toContain('baseline');
    expect(lines.some((l) => /epoch 6\/6 train loss/.test(l))).toBe(true);
    // measured numbers for the report
    console.log(JSON.stringify(results));
  });
});

function trainerOptions(s: ReturnType<typeof setup>): TrainerOptions {
  return {
    supernet: s.supernet,
    trainLoader: s.trainLoader,
    valLoader: s.valLoader,
    optimizer: sgd,
    lrSchedule: { type: 'constant', lr: 0.1 },
    bnReestimation: { images: 32 },
    plots: false,
  };
}
