/* Tracking: steps.jsonl, TensorBoard event files (read back by an independent decoder), progress, phases, plots. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  STEP_TIMING_FIELDS,
  formatDuration,
  progress,
  tensorboard,
  type Callback,
  type PhaseInfo,
  type StepRecord,
} from './callbacks';
import type { EpochRecord } from './metrics';
import { movingAverage, plotData } from './plots';
import { labelSmoothing, netaug } from './strategies';
import { crc32c, maskCrc } from './tfevents';
import { Trainer, type TrainerOptions } from './trainer';
import { removeTmpDirs, setup, tmpDir, useCpu } from './test-utils';
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

const constant = { type: 'constant' as const, lr: 0.1 };
const testLoader = () => new ArrayLoader({ ...textureTask(40, { seed: 7 }), batchSize: 32, shuffle: false });

// ---------------------------------------------------------------------------------------------------------------
// An independent reader of TensorBoard event files: its own CRC32C (bitwise, no table), TFRecord framing and
// protocol-buffer decoding. It shares no code with the writer (src/tfevents.ts).

/** CRC32C bit by bit: reflected Castagnoli polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's mask: rotate right by 15 bits, add 0xa282ead8 (modulo 2^32), with BigInt arithmetic. */
function masked(crc: number): number {
  const c = BigInt(crc);
  const rotated = ((c >> 15n) | (c << 17n)) & 0xffffffffn;
  return Number((rotated + 0xa282ead8n) & 0xffffffffn);
}

interface Field {
  field: number;
  wire: number;
  /** varint (as BigInt), or the raw bytes of fixed64 / fixed32 / length-delimited fields. */
  value: bigint | Buffer;
}

function decodeMessage(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) value = buf.subarray(pos, (pos += 8));
    else if (wire === 5) value = buf.subarray(pos, (pos += 4));
    else if (wire === 2) {
      const n = Number(varint());
      value = buf.subarray(pos, (pos += n));
    } else throw new Error(`wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated field');
    out.push({ field, wire, value });
  }
  return out;
}

interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: { tag: string; value: number }[];
}

/** Every record of an event file; throws on a bad length or data CRC (every CRC is checked). */
function readEventFile(file: string): DecodedEvent[] {
  const buf = fs.readFileSync(file);
  const events: DecodedEvent[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const lenBytes = buf.subarray(pos, pos + 8);
    const len = Number(lenBytes.readBigUInt64LE(0));
    expect(buf.readUInt32LE(pos + 8)).toBe(masked(crc32cBitwise(lenBytes)));
    const data = buf.subarray(pos + 12, pos + 12 + len);
    expect(data.length).toBe(len);
    expect(buf.readUInt32LE(pos + 12 + len)).toBe(masked(crc32cBitwise(data)));
    pos += 12 + len + 4;
    const e: DecodedEvent = { wallTime: Number.NaN, step: 0, scalars: [] };
    for (const f of decodeMessage(data)) {
      if (f.field === 1 && f.wire === 1) e.wallTime = (f.value as Buffer).readDoubleLE(0);
      else if (f.field === 2 && f.wire === 0) e.step = Number(f.value as bigint);
      else if (f.field === 3 && f.wire === 2) e.fileVersion = (f.value as Buffer).toString('utf8');
      else if (f.field === 5 && f.wire === 2) {
        for (const v of decodeMessage(f.value as Buffer)) {
          expect(v.field).toBe(1);
          let tag = '';
          let value = Number.NaN;
          for (const g of decodeMessage(v.value as Buffer)) {
            if (g.field === 1 && g.wire === 2) tag = (g.value as Buffer).toString('utf8');
            if (g.field === 2 && g.wire === 5) value = (g.value as Buffer).readFloatLE(0);
          }
          e.scalars.push({ tag, value });
        }
      } else throw new Error(`unexpected Event field ${f.field}`);
    }
    events.push(e);
  }
  return events;
}

/** The event files of a folder, in TensorBoard's order (by name), and `tag@step → value` over all of them. */
function readLogdir(dir: string): {
  files: string[];
  events: DecodedEvent[][];
  scalars: Map<string, number>;
} {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.includes('tfevents'))
    .sort();
  const events = files.map((f) => readEventFile(path.join(dir, f)));
  const scalars = new Map<string, number>();
  for (const file of events) {
    expect(file[0].fileVersion).toBe('brain.Event:2');
    for (const e of file.slice(1)) {
      expect(e.fileVersion).toBeUndefined();
      for (const s of e.scalars) {
        const key = `${s.tag}@${e.step}`;
        if (scalars.has(key)) throw new Error(`${key} appears twice`);
        scalars.set(key, s.value);
      }
    }
  }
  return { files, events, scalars };
}

// ---------------------------------------------------------------------------------------------------------------

const readJsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as T);
const withoutTiming = (steps: StepRecord[]) =>
  steps.map((s) => {
    const r: Record<string, unknown> = { ...s };
    for (const k of STEP_TIMING_FIELDS) delete r[k];
    return r;
  });
const withoutSeconds = (h: EpochRecord[]) => h.map((r) => ({ ...r, seconds: 0 }));
/** The TensorBoard scalars that are not wall-clock measurements. */
const untimed = (m: Map<string, number>) =>
  new Map([...m].filter(([k]) => !k.startsWith('step/images_per_sec@')));

describe('CRC32C', () => {
  it('matches the standard check value and a bitwise implementation; the mask matches a BigInt rotation', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32cBitwise(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const bytes = new Uint8Array(4099);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    for (const n of [1, 7, 8, 255, 256, 4099]) {
      const c = crc32c(bytes.subarray(0, n));
      expect(c).toBe(crc32cBitwise(bytes.subarray(0, n)));
      expect(maskCrc(c)).toBe(masked(c));
    }
    for (const c of [0, 1, 0x7fff, 0xffffffff, 0x80000000, 0xe3069283]) expect(maskCrc(c)).toBe(masked(c));
  });
});

describe('steps.jsonl and TensorBoard event files', () => {
  let ref: { dir: string; steps: StepRecord[]; metrics: EpochRecord[]; tb: Map<string, number> };

  beforeAll(async () => {
    const dir = tmpDir('tb-full');
    const s = setup();
    const t = trainer(s, { runDir: dir, testLoader: testLoader(), callbacks: [tensorboard()], plots: true });
    const t0 = Date.now() / 1000;
    const before = tf.memory().numTensors;
    await t.fit({ epochs: 3 });
    expect(tf.memory().numTensors).toBe(before); // nothing leaked, tracking callbacks included
    const t1 = Date.now() / 1000;
    const logdir = readLogdir(path.join(dir, 'tensorboard'));
    for (const file of logdir.events)
      for (const e of file) {
        expect(e.wallTime).toBeGreaterThanOrEqual(Math.floor(t0));
        expect(e.wallTime).toBeLessThanOrEqual(t1 + 1);
      }
    ref = {
      dir,
      steps: readJsonl<StepRecord>(path.join(dir, 'steps.jsonl')),
      metrics: readJsonl<EpochRecord>(path.join(dir, 'metrics.jsonl')),
      tb: logdir.scalars,
    };
    s.supernet.dispose();
  });

  it('steps.jsonl: one line per step with the loss of each arm, lr, top-1 of the batch, images/s and the sampled augmentation; epoch means match metrics.jsonl', () => {
    const { steps, metrics } = ref;
    const S = 4; // 64 images / batch 16
    expect(steps.map((s) => s.globalStep)).toEqual([...Array(3 * S).keys()]);
    expect(steps.map((s) => [s.epoch, s.step])).toEqual(
      [...Array(3 * S).keys()].map((g) => [Math.floor(g / S), g % S]),
    );
    for (const s of steps) {
      expect(Object.keys(s.terms)).toEqual(['tiny', 'aug0']);
      expect(s.loss).toBeCloseTo(s.terms.tiny + s.terms.aug0, 5);
      expect(s.images).toBe(16);
      expect(s.imagesPerSec).toBeCloseTo(s.images / s.seconds, 6);
      expect(s.top1! * 16).toBeCloseTo(Math.round(s.top1! * 16), 10);
      // netaug({ stopWidthEpoch: 1 }): 'random' in epoch 0, then 'min_w' (widths at the tiny model's)
      expect(s.aug!.mode).toBe(s.epoch === 0 ? 'random' : 'min_w');
      expect(s.aug!.configs).toHaveLength(1);
      expect(Object.keys(s.aug!.configs[0]).sort()).toEqual(['expand', 'width']);
    }
    // the epoch records are image-weighted means of the steps
    metrics.forEach((r, e) => {
      const mine = steps.filter((s) => s.epoch === e);
      const mean = (f: (s: StepRecord) => number) => mine.reduce((a, s) => a + f(s) * s.images, 0) / 64;
      expect(r.train.loss).toBeCloseTo(
        mean((s) => s.loss),
        6,
      );
      expect(r.train.terms.tiny).toBeCloseTo(
        mean((s) => s.terms.tiny),
        6,
      );
      expect(r.train.top1).toBeCloseTo(
        mean((s) => s.top1!),
        10,
      );
      expect(r.lr).toBe(mine[mine.length - 1].lr);
    });
  });

  it('event files: valid TFRecords (every CRC checked by an independent reader), file_version first, scalars equal steps.jsonl / metrics.jsonl / summary.json', () => {
    const { steps, metrics, tb, dir } = ref;
    const files = fs.readdirSync(path.join(dir, 'tensorboard'));
    // one fit(): one file, named as TensorFlow names them
    expect(files).toHaveLength(1);
    for (const f of files)
      expect(f).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname()}(\\.\\d+)?$`));
    const want = new Map<string, number>();
    const put = (tag: string, step: number, v: number) => want.set(`${tag}@${step}`, Math.fround(v));
    for (const s of steps) {
      put('step/loss', s.globalStep, s.loss);
      for (const [k, v] of Object.entries(s.terms)) put(`step/loss_${k}`, s.globalStep, v);
      put('step/lr', s.globalStep, s.lr);
      put('step/images_per_sec', s.globalStep, s.imagesPerSec);
    }
    metrics.forEach((r, e) => {
      const last = 4 * (e + 1) - 1;
      put('epoch/train_loss', last, r.train.loss);
      for (const [k, v] of Object.entries(r.train.terms)) put(`epoch/train_loss_${k}`, last, v);
      put('epoch/train_top1', last, r.train.top1!);
      put('epoch/lr', last, r.lr);
      put('epoch/val_loss', last, r.val!.loss);
      put('epoch/val_top1', last, r.val!.top1);
      put('epoch/val_top5', last, r.val!.top5);
      put('epoch/fit_gap_top1', last, r.train.top1! - r.val!.top1);
    });
    // the final figures of the selected model, at the run's step count
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    for (const k of ['val', 'test'] as const)
      for (const m of ['loss', 'top1', 'top5'] as const) put(`final/${k}_${m}`, 12, summary.final[k][m]);
    put('final/selected_epoch', 12, summary.final.selected.epoch);
    expect(new Map([...tb].sort())).toEqual(new Map([...want].sort()));
  });

  it('plots: honest labels (tiny model, augmented model, validation; train top-1 on augmented batches), per-step moving averages', () => {
    const svg = fs.readFileSync(path.join(ref.dir, 'loss.svg'), 'utf8');
    expect(svg).toContain('tiny model, train');
    expect(svg).toContain('augmented model (α·loss, aug0), train');
    expect(svg).toContain('tiny model, validation');
    expect(svg).not.toContain('Loss (tiny model)');
    expect(svg).toContain('moving average over 1 step'); // a tenth of 4 steps per epoch, at least 1
    const acc = fs.readFileSync(path.join(ref.dir, 'accuracy.svg'), 'utf8');
    expect(acc).toContain('tiny model, train top-1 (augmented training batches)');
    expect(acc).toContain('tiny model, validation top-1');

    // the rows against an independent computation (window of 3 steps)
    const { loss, accuracy } = plotData(ref.metrics, { steps: ref.steps, window: 3 });
    const tinySteps = loss.filter((r) => r.series === 'tiny model, train' && r.kind === 'step');
    expect(tinySteps).toHaveLength(12);
    tinySteps.forEach((r, i) => {
      const w = ref.steps.slice(Math.max(0, i - 2), i + 1);
      expect(r.x).toBeCloseTo(ref.steps[i].epoch + (ref.steps[i].step + 1) / 4, 12);
      expect(r.value).toBeCloseTo(w.reduce((a, s) => a + s.terms.tiny, 0) / w.length, 10); // equal batches
    });
    const means = loss.filter((r) => r.series === 'tiny model, train' && r.kind === 'epoch');
    expect(means.map((r) => [r.x, r.value])).toEqual(
      ref.metrics.map((m) => [m.epoch + 0.5, m.train.terms.tiny]),
    );
    const aug = loss.filter((r) => r.series === 'augmented model (α·loss, aug0), train' && r.kind === 'step');
    expect(aug[0].value).toBe(ref.steps[0].terms.aug0);
    const val = loss.filter((r) => r.series === 'tiny model, validation');
    expect(val.map((r) => r.value)).toEqual(ref.metrics.map((m) => m.val!.loss));
    expect(accuracy.filter((r) => r.kind === 'step').map((r) => r.series)[0]).toBe(
      'tiny model, train top-1 (augmented training batches)',
    );
    // image weights: a 1-image step counts a tenth of a 10-image one
    expect(movingAverage([1, 0], [10, 1], 2)).toEqual([1, 10 / 11]);
    // thinning keeps the last point
    const thin = plotData(ref.metrics, { steps: ref.steps, maxPoints: 5 }).loss.filter(
      (r) => r.series === 'tiny model, train' && r.kind === 'step',
    );
    expect(thin.length).toBeLessThanOrEqual(6);
    expect(thin[thin.length - 1].x).toBe(3);
  });

  it.each([
    ['killed after the epoch-1 checkpoint; torn tails appended', 1, 'checkpoint'],
    ['checkpointEvery 2, killed at the end of epoch 3 (its steps already flushed)', 2, 'epochEnd'],
  ] as const)(
    'kill + resume (%s) → steps.jsonl and the TensorBoard scalars equal the uninterrupted run (timing aside), no step twice',
    async (_name, checkpointEvery, killAt) => {
      const dir = tmpDir('tb-killed');
      const kill: Callback = {
        name: 'kill',
        onCheckpoint: (_c, { epoch }) => {
          if (killAt === 'checkpoint' && epoch === 0) throw new Error('killed');
        },
        onEpochEnd: (_c, r) => {
          if (killAt === 'epochEnd' && r.epoch === 2) throw new Error('killed');
        },
      };
      await expect(
        trainer(setup(), {
          runDir: dir,
          testLoader: testLoader(),
          checkpointEvery,
          callbacks: [kill, tensorboard()],
        }).fit({ epochs: 3 }),
      ).rejects.toThrow('killed');
      const stepsFile = path.join(dir, 'steps.jsonl');
      const logdir = path.join(dir, 'tensorboard');
      const [eventFile] = fs.readdirSync(logdir);
      if (killAt === 'checkpoint') {
        expect(readJsonl<StepRecord>(stepsFile)).toHaveLength(4);
        // a crash in the middle of appends: half a line, half a record
        fs.appendFileSync(stepsFile, '{"epoch":1,"step":0,"globalStep":4,"lr":0.0');
        const bytes = fs.readFileSync(path.join(logdir, eventFile));
        fs.appendFileSync(path.join(logdir, eventFile), bytes.subarray(bytes.length - 40, bytes.length - 11));
      } else {
        // onTrainError flushed the steps of epoch 3, trained after the last checkpoint (epoch 2)
        expect(readJsonl<StepRecord>(stepsFile)).toHaveLength(12);
        expect(readLogdir(logdir).scalars.has('step/loss@11')).toBe(true);
      }
      const b = trainer(setup({ seed: 99 }), {
        runDir: dir,
        testLoader: testLoader(),
        callbacks: [tensorboard()],
        plots: true,
      });
      await b.fit({ epochs: 3, resume: true });
      const steps = readJsonl<StepRecord>(stepsFile);
      expect(withoutTiming(steps)).toEqual(withoutTiming(ref.steps));
      expect(withoutSeconds(readJsonl<EpochRecord>(path.join(dir, 'metrics.jsonl')))).toEqual(
        withoutSeconds(ref.metrics),
      );
      const got = readLogdir(logdir); // throws on a duplicate tag@step; checks every CRC
      expect(got.files).toHaveLength(2);
      expect(got.files[0]).toBe(eventFile); // trimmed in place, read first
      expect(new Map([...untimed(got.scalars)].sort())).toEqual(new Map([...untimed(ref.tb)].sort()));
      expect([...got.scalars.keys()].filter((k) => k.startsWith('step/images_per_sec@'))).toHaveLength(12);
      b.supernet.dispose();
    },
  );

  it('a fresh run (no resume) in a used folder starts steps.jsonl and the event files over', async () => {
    const dir = tmpDir('tb-fresh');
    const run = () =>
      trainer(setup(), { runDir: dir, callbacks: [tensorboard()], lrSchedule: constant }).fit({ epochs: 1 });
    await run();
    const first = readJsonl<StepRecord>(path.join(dir, 'steps.jsonl'));
    const firstTb = readLogdir(path.join(dir, 'tensorboard')).scalars;
    await run();
    const steps = readJsonl<StepRecord>(path.join(dir, 'steps.jsonl'));
    expect(steps).toHaveLength(4);
    expect(withoutTiming(steps)).toEqual(withoutTiming(first));
    const got = readLogdir(path.join(dir, 'tensorboard'));
    expect(got.files).toHaveLength(1);
    expect(untimed(got.scalars)).toEqual(untimed(firstTb));
  });

  it('logSteps: false writes no steps.jsonl', async () => {
    const dir = tmpDir('no-steps');
    const summary = await trainer(setup(), { runDir: dir, logSteps: false, lrSchedule: constant }).fit({
      epochs: 1,
    });
    expect(fs.existsSync(path.join(dir, 'steps.jsonl'))).toBe(false);
    expect(summary.files).not.toContain('steps.jsonl');
  });
});

describe('progress and phases', () => {
  it('onPhase: BN re-estimation and evaluation every epoch, the final evaluations and the test data once, with counts', async () => {
    const phases: PhaseInfo[] = [];
    const spy: Callback = { name: 'spy', onPhase: (_c, p) => void phases.push({ ...p }) };
    await trainer(setup(), { testLoader: testLoader(), callbacks: [spy] }).fit({ epochs: 2 });
    const ends = phases.filter((p) => p.end);
    expect(ends.map((p) => [p.label, p.epoch, p.final, p.done, p.total, p.images])).toEqual([
      ['bn-reestimation', 0, false, 32, 32, 32],
      ['evaluation', 0, false, 1, 1, 32],
      ['bn-reestimation', 1, false, 32, 32, 32],
      ['evaluation', 1, false, 1, 1, 32],
      ['evaluation (shared statistics)', 1, true, 1, 1, 32],
      ['evaluation (selected model)', 1, true, 1, 1, 32],
      ['test', 1, true, 2, 2, 40],
    ]);
    expect(ends.map((p) => p.unit)).toEqual([
      'images',
      'batches',
      'images',
      'batches',
      'batches',
      'batches',
      'batches',
    ]);
    // each phase: a start (done 0), one call per batch, an end
    expect(phases.filter((p) => p.label === 'test').map((p) => [p.done, p.end])).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [2, true],
    ]);
    // BN re-estimation on batches of 16: 16, then 32 images
    expect(phases.filter((p) => p.phase === 'bn-reestimation' && p.epoch === 0).map((p) => p.done)).toEqual([
      0, 16, 32, 32,
    ]);
    expect(phases.every((p) => p.seconds >= 0)).toBe(true);
  });

  it('plain: lines with loss, lr, img/s, ETA and run ETA per step, a line per phase and per epoch, no ANSI codes', async () => {
    const out: string[] = [];
    const sink = { write: (s: string) => void out.push(s), isTTY: false } as unknown as NodeJS.WritableStream;
    await trainer(setup(), {
      testLoader: testLoader(),
      callbacks: [progress({ plain: true, intervalSeconds: 0, stream: sink })],
    }).fit({ epochs: 2 });
    const text = out.join('');
    expect(text).not.toMatch(/\x1b/); // eslint-disable-line no-control-regex
    const lines = text.trim().split('\n');
    const num = '\\d+\\.\\d{3}';
    const stepLine = new RegExp(
      `^epoch (\\d)/2 step (\\d)/4 loss ${num} \\(tiny ${num}\\) lr \\d\\.\\de-\\d+ \\d+ img/s ETA \\d+:\\d\\d \\(run ETA \\d+:\\d\\d\\)$`,
    );
    expect(lines.filter((l) => stepLine.test(l)).map((l) => l.slice(0, 17))).toEqual([
      'epoch 1/2 step 1/',
      'epoch 1/2 step 2/',
      'epoch 1/2 step 3/',
      'epoch 1/2 step 4/',
      'epoch 2/2 step 1/',
      'epoch 2/2 step 2/',
      'epoch 2/2 step 3/',
      'epoch 2/2 step 4/',
    ]);
    const phase = (label: string, what: string) =>
      lines.filter((l) => new RegExp(`^${label} ${what} in \\d+\\.\\d s \\(\\d+ img/s\\)$`).test(l)).length;
    expect(phase('epoch 1/2 bn-reestimation', '32 images')).toBe(1);
    expect(phase('epoch 2/2 evaluation', '32 images \\(1 batches\\)')).toBe(1);
    expect(phase('final evaluation \\(selected model\\)', '32 images \\(1 batches\\)')).toBe(1);
    expect(phase('final test', '40 images \\(2 batches\\)')).toBe(1);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^epoch 1\/2 train loss \d\.\d{4} \(tiny \d\.\d{4}\) top1 [\d.]+% val loss [\d.]+ top1 [\d.]+% top5 [\d.]+% \([\d.]+ s, \d+ img\/s, run ETA \d+:\d\d\)$/,
      ),
    );
  });

  it('bar (no TTY): the epoch bar carries img/s, ETA and run ETA; BN re-estimation and evaluation get bars', async () => {
    const out: string[] = [];
    const sink = { write: (s: string) => void out.push(s), isTTY: false } as unknown as NodeJS.WritableStream;
    await trainer(setup(), { callbacks: [progress({ stream: sink })], lrSchedule: constant }).fit({
      epochs: 1,
    });
    const text = out.join('');
    expect(text).toMatch(
      /epoch 1\/1 \[[█░]+\] 4\/4 loss \d\.\d{3} \(tiny \d\.\d{3}\) lr \d\.\de-\d+ \d+ img\/s ETA 0:00 \(run ETA \d+:\d\d\)/,
    );
    expect(text).toMatch(/epoch 1\/1 bn-reestimation \[[█░]+\] 32\/32 images \d+ img\/s in \d+\.\d s/);
    expect(text).toMatch(/epoch 1\/1 evaluation \[[█░]+\] 1\/1 batches \d+ img\/s in \d+\.\d s/);
    expect(text).toMatch(/epoch 1\/1 train loss/);
  });

  it('bar on a TTY: redrawn in place, cleared when done; a summary line per phase and per epoch', async () => {
    const out: string[] = [];
    const sink = {
      write: (s: string) => void out.push(s),
      isTTY: true,
      columns: 200,
      on: () => sink,
      removeListener: () => sink,
    } as unknown as NodeJS.WritableStream;
    await trainer(setup(), { callbacks: [progress({ stream: sink })], lrSchedule: constant }).fit({
      epochs: 1,
    });
    const text = out.join('');
    expect(text).toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    expect(text).toMatch(/epoch 1\/1 \[[█░]+\] 4\/4 loss/);
    // after each cleared bar (ESC [2K), its summary line
    expect(text).toMatch(/\[2Kepoch 1\/1 bn-reestimation 32 images in \d+\.\d s \(\d+ img\/s\)\n/);
    expect(text).toMatch(/\[2Kepoch 1\/1 evaluation 32 images \(1 batches\) in \d+\.\d s \(\d+ img\/s\)\n/);
    expect(text).toMatch(/\nepoch 1\/1 train loss /);
  });

  it('formatDuration: m:ss under an hour, h:mm:ss above', () => {
    expect(formatDuration(45)).toBe('0:45');
    expect(formatDuration(61.4)).toBe('1:01');
    expect(formatDuration(3730)).toBe('1:02:10');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
