/* The run folder under faults: full disks, divergence, NaN, reproducible checkpoints, atomic writes. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import { createLrSchedule, type LrSchedule } from '@netaug/schedulers';
import { bestCheckpoint, csvLogger, jsonlLogger, type Callback } from './callbacks';
import { loadCheckpoint } from './checkpoint';
import { labelSmoothing, netaug, type Strategy } from './strategies';
import { Trainer, type TrainerOptions } from './trainer';
import { removeTmpDirs, setup, tmpDir, useCpu, values } from './test-utils';

beforeAll(useCpu);
afterEach(() => jest.restoreAllMocks());
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
  Object.fromEntries(t.supernet.variables().map((v) => [v.name, Buffer.from(values(v.variable).buffer)]));
const expectSameWeights = (a: Trainer, b: Trainer) => {
  const wa = weightsOf(a);
  const wb = weightsOf(b);
  for (const k of Object.keys(wa)) expect(wb[k].equals(wa[k])).toBe(true);
};
const temps = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
/** Four significant digits, as the trainer's messages print numbers. */
const fmt = (v: number) => String(Number(v.toPrecision(4)));
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The `nth` temporary file of `<base>` (e.g. `checkpoint.bin`) fails its first write with ENOSPC. */
function failNthWriteOf(base: string, nth: number): void {
  const realOpen = fs.openSync.bind(fs) as (...a: unknown[]) => number;
  const realWrite = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  const doomed = new Set<number>();
  let opened = 0;
  jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
    const fd = realOpen(...a);
    const name = path.basename(String(a[0]));
    if (name.startsWith(`.${base}.`) && name.endsWith('.tmp') && ++opened === nth) doomed.add(fd);
    return fd;
  }) as typeof fs.openSync);
  jest.spyOn(fs, 'writeSync').mockImplementation(((...a: unknown[]) => {
    if (doomed.has(a[0] as number))
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
        syscall: 'write',
      });
    return realWrite(...a);
  }) as typeof fs.writeSync);
}

/** A learning rate of 0.1 in the first epoch and `lr` afterwards. */
function explodingAfterFirstEpoch(lr: number): LrSchedule {
  const base = createLrSchedule({ type: 'constant', lr: 0.1 });
  return { config: base.config, at: (epoch) => (epoch === 0 ? 0.1 : lr), atGlobalStep: () => 0.1 };
}

describe('a full disk', () => {
  it('ENOSPC writing checkpoint.bin at epoch 2 → fit rejects with IO naming the path; the epoch-1 checkpoint loads and resumes to the uninterrupted result', async () => {
    const full = trainer(setup());
    await full.fit({ epochs: 3 });

    const dir = tmpDir('enospc');
    const file = path.join(dir, 'checkpoint.bin');
    failNthWriteOf('checkpoint.bin', 2);
    const err = (await trainer(setup(), { runDir: dir })
      .fit({ epochs: 3 })
      .catch((e: unknown) => e)) as NetAugError;
    jest.restoreAllMocks();
    expect(err).toBeInstanceOf(NetAugError);
    expect(err.code).toBe('IO');
    expect(err.message).toBe(
      `no space left on device writing ${file} (the previous checkpoint is kept) — ` +
        `free space on the disk that holds ${dir}, or write to another disk`,
    );
    expect(err.details).toMatchObject({ path: file, code: 'ENOSPC' });
    expect(temps(dir)).toEqual([]);
    const ck = loadCheckpoint(file);
    expect(ck.epoch).toBe(1);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).epoch).toBe(1);

    const resumed = trainer(setup({ seed: 99 }), { runDir: dir });
    const summary = await resumed.fit({ epochs: 3, resume: true });
    expect(summary.epochs).toBe(3);
    expect(loadCheckpoint(file).epoch).toBe(3);
    expectSameWeights(full, resumed);
    full.supernet.dispose();
    resumed.supernet.dispose();
  });

  // A real full disk: a 1 MiB tmpfs (needs root and mount rights; CI runs the mocked test above either way).
  const tmpfsOk = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-tmpfs-probe-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      fs.rmdirSync(probe);
    }
  })();
  (tmpfsOk ? it : it.skip)(
    'a real full tmpfs at epoch 2 → IO "no space left on device writing …/checkpoint.bin"; epoch 1 resumes',
    async () => {
      const mnt = tmpDir('tmpfs');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
      try {
        const dir = path.join(mnt, 'run');
        const file = path.join(dir, 'checkpoint.bin');
        const filler = path.join(mnt, 'filler');
        // after epoch 2's metrics line, fill the disk: the checkpoint write that follows meets a real ENOSPC
        const fill: Callback = {
          name: 'fill',
          onEpochEnd: (_c, r) => {
            if (r.epoch !== 1) return;
            const fd = fs.openSync(filler, 'w');
            try {
              for (const size of [65536, 4096, 1]) {
                const chunk = Buffer.alloc(size, 1);
                for (;;) fs.writeSync(fd, chunk);
              }
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            } finally {
              fs.closeSync(fd);
            }
          },
        };
        const err = (await trainer(setup(), { runDir: dir, callbacks: [jsonlLogger(), fill] })
          .fit({ epochs: 3 })
          .catch((e: unknown) => e)) as NetAugError;
        expect(err.code).toBe('IO');
        expect(err.message).toMatch(
          new RegExp(`^no space left on device writing ${esc(file)} \\(the previous checkpoint is kept\\)`),
        );
        expect(temps(dir)).toEqual([]);
        expect(loadCheckpoint(file).epoch).toBe(1);
        fs.rmSync(filler);
        const t = trainer(setup({ seed: 99 }), { runDir: dir });
        expect((await t.fit({ epochs: 3, resume: true })).epochs).toBe(3);
        t.supernet.dispose();
      } finally {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      }
    },
  );
});

describe('divergence guard', () => {
  it('tiny-model loss > 10 × its first-epoch mean → NUMERIC naming epoch, step, values and the kept checkpoint; the reference survives resume', async () => {
    const dir = tmpDir('diverge');
    const file = path.join(dir, 'checkpoint.bin');
    const a = trainer(setup(), { runDir: dir, lrSchedule: { type: 'constant', lr: 0.1 } });
    await a.fit({ epochs: 1 });
    const reference = a.history[0].train.terms.tiny;
    expect(loadCheckpoint(file).divergence).toEqual({ epoch: 0, tinyLoss: reference });
    const good = fs.readFileSync(file);

    // a fresh process resumes with a huge learning rate: the reference comes from the checkpoint
    const b = trainer(setup({ seed: 99 }), { runDir: dir, lrSchedule: { type: 'constant', lr: 1e4 } });
    const err = (await b.fit({ epochs: 3, resume: true }).catch((e: unknown) => e)) as NetAugError;
    expect(err).toBeInstanceOf(NetAugError);
    expect(err.code).toBe('NUMERIC');
    const d = err.details as { step: number; tinyLoss: number; reference: number };
    expect(d.reference).toBe(reference);
    expect(d.tinyLoss).toBeGreaterThan(10 * reference);
    expect(err.message).toBe(
      `training diverged at epoch 1, step ${d.step}: tiny-model loss ${fmt(d.tinyLoss)} > 10 × its first-epoch ` +
        `mean ${fmt(reference)}; the last good checkpoint (epoch 0) is kept in ${file} — ` +
        'lower the learning rate (--lr) or raise --diverge-factor',
    );
    expect(err.hint).toBe('lower the learning rate (--lr) or raise --diverge-factor');
    expect(fs.readFileSync(file).equals(good)).toBe(true);
    expect(loadCheckpoint(file).epoch).toBe(1);
    expect(temps(dir)).toEqual([]);
    a.supernet.dispose();
    b.supernet.dispose();
  });

  it('without a run folder the message says no checkpoint was written; divergeFactor null lets the same run go on', async () => {
    const s = setup();
    const err = (await trainer(s, { lrSchedule: explodingAfterFirstEpoch(1e4), divergeFactor: 5 })
      .fit({ epochs: 3 })
      .catch((e: unknown) => e)) as NetAugError;
    expect(err.code).toBe('NUMERIC');
    expect(err.message).toMatch(
      /^training diverged at epoch 1, step \d+: tiny-model loss [\d.e+]+ > 5 × its first-epoch mean [\d.]+; no checkpoint was written yet — lower the learning rate \(--lr\) or raise --diverge-factor$/,
    );
    s.supernet.dispose();

    const off = setup();
    const tiny: number[] = [];
    const watch: Callback = { name: 'watch', onBatchEnd: (_c, i) => void tiny.push(i.terms.tiny) };
    const t = trainer(off, {
      lrSchedule: explodingAfterFirstEpoch(1e4),
      divergeFactor: null,
      callbacks: [watch],
    });
    await t.fit({ epochs: 2 });
    expect(Math.max(...tiny)).toBeGreaterThan(1000 * t.history[0].train.terms.tiny); // what the guard stops
    off.supernet.dispose();
  });

  it('a normal run never trips it: its tiny-model loss stays far below 10 × the first-epoch mean', async () => {
    const s = setup();
    const tiny: { epoch: number; loss: number }[] = [];
    const watch: Callback = {
      name: 'watch',
      onBatchEnd: (_c, i) => void tiny.push({ epoch: i.epoch, loss: i.terms.tiny }),
    };
    const t = trainer(s, { callbacks: [watch] }, 4);
    const summary = await t.fit({ epochs: 4 });
    expect(summary.epochs).toBe(4);
    const ref = t.history[0].train.terms.tiny;
    expect(Math.max(...tiny.filter((x) => x.epoch > 0).map((x) => x.loss))).toBeLessThan(2 * ref);
    s.supernet.dispose();
  });

  it('divergeFactor must be 0 (off), null (off) or at least 1', () => {
    const s = setup();
    expect(() => trainer(s, { divergeFactor: 0.5 })).toThrow(
      'Invalid trainer config — trainer.divergeFactor: must be 0 (off) or at least 1',
    );
    expect(trainer(s, { divergeFactor: 0 }).config.divergeFactor).toBe(0);
    expect(trainer(s).config.divergeFactor).toBe(10);
    s.supernet.dispose();
  });
});

describe('NaN loss', () => {
  const poisonAt = (epoch: number, step: number): Strategy => ({
    name: 'poison',
    lossTerms: (ctx): Record<string, tf.Scalar> =>
      ctx.epoch === epoch && ctx.step === step ? { poison: tf.scalar(NaN) } : {},
  });

  it('in the first epoch: "no checkpoint was written yet", even with a run folder', async () => {
    const dir = tmpDir('nan0');
    const err = (await trainer(setup(), { runDir: dir, strategies: [poisonAt(0, 1)] })
      .fit({ epochs: 2 })
      .catch((e: unknown) => e)) as NetAugError;
    expect(err.code).toBe('NUMERIC');
    expect(err.message).toBe(
      'Loss is NaN at epoch 0, step 1; no checkpoint was written yet — lower the learning rate (--lr) or check the data',
    );
    expect(fs.existsSync(path.join(dir, 'checkpoint.bin'))).toBe(false);
  });

  it('later: names the kept checkpoint and its epoch', async () => {
    const dir = tmpDir('nan1');
    const err = (await trainer(setup(), { runDir: dir, strategies: [poisonAt(1, 2)] })
      .fit({ epochs: 2 })
      .catch((e: unknown) => e)) as NetAugError;
    expect(err.message).toBe(
      `Loss is NaN at epoch 1, step 2; the last good checkpoint (epoch 0) is kept in ${path.join(dir, 'checkpoint.bin')}` +
        ' — lower the learning rate (--lr) or check the data',
    );
    expect((err.details as { checkpoint: string }).checkpoint).toBe(path.join(dir, 'checkpoint.bin'));
  });
});

describe('reproducible checkpoints', () => {
  it('two identical runs into two folders write byte-identical checkpoint.bin (no wall-clock time, no path)', async () => {
    const run = async (dir: string) => {
      // meta naming the run folder, as the CLI's does
      const t = trainer(setup(), {
        runDir: dir,
        callbacks: [csvLogger(), bestCheckpoint()],
        meta: { run: { out: dir } },
      });
      await t.fit({ epochs: 2 });
      t.supernet.dispose();
      return {
        ck: fs.readFileSync(path.join(dir, 'checkpoint.bin')),
        best: fs.readFileSync(path.join(dir, 'best.bin')),
      };
    };
    const dirA = tmpDir('same-a');
    const dirB = tmpDir('same-b');
    const a = await run(dirA);
    const b = await run(dirB);
    expect(a.ck.equals(b.ck)).toBe(true);
    expect(a.best.equals(b.best)).toBe(true);
    expect(a.ck.includes(Buffer.from(dirA))).toBe(false);
    const ck = loadCheckpoint(path.join(dirA, 'checkpoint.bin'));
    expect(ck.history.map((r) => 'seconds' in r)).toEqual([false, false]);
    expect((ck.config.trainer as Record<string, unknown>).runDir).toBeUndefined();
    expect(ck.config.meta).toBeUndefined();
    // config.json still describes the whole run, folder included; metrics.jsonl keeps the seconds
    expect(JSON.parse(fs.readFileSync(path.join(dirA, 'config.json'), 'utf8')).trainer.runDir).toBe(dirA);
    const lines = fs
      .readFileSync(path.join(dirA, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.every((l) => l.seconds > 0)).toBe(true);

    // on resume the past epochs' seconds come from metrics.jsonl, else 0
    const r = trainer(setup(), { runDir: dirA });
    await r.fit({ epochs: 3, resume: true });
    expect(r.history.slice(0, 2).map((h) => h.seconds)).toEqual(lines.map((l) => l.seconds));
    fs.rmSync(path.join(dirB, 'metrics.jsonl'));
    const q = trainer(setup(), { runDir: dirB });
    await q.fit({ epochs: 3, resume: true });
    expect(q.history.map((h) => h.seconds === 0)).toEqual([true, true, false]);
    r.supernet.dispose();
    q.supernet.dispose();
  });
});

describe('run folder writes', () => {
  it('every file of the run folder is renamed into place from a temp file, but steps.jsonl, appended with an fsync; nothing else is written or appended directly', async () => {
    const dir = tmpDir('atomic');
    const realRename = fs.renameSync.bind(fs);
    const renamed = new Set<string>();
    jest.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (String(from).endsWith('.tmp')) renamed.add(String(to));
      realRename(from, to);
    });
    const direct: string[] = [];
    for (const m of ['writeFileSync', 'appendFileSync'] as const) {
      const real = fs[m].bind(fs) as (...a: unknown[]) => void;
      jest.spyOn(fs, m).mockImplementation(((...a: unknown[]) => {
        if (String(a[0]).startsWith(dir)) direct.push(`${m} ${path.basename(String(a[0]))}`);
        real(...a);
      }) as never);
    }
    // appends: descriptors opened for appending, and whether each append was fsynced before the close
    const realOpen = fs.openSync.bind(fs) as (...a: unknown[]) => number;
    const appendFds = new Map<number, string>();
    const appends: string[] = [];
    let unsynced = false;
    jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
      const fd = realOpen(...a);
      if (a[1] === 'a') appendFds.set(fd, path.basename(String(a[0])));
      return fd;
    }) as typeof fs.openSync);
    const realWrite = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
    jest.spyOn(fs, 'writeSync').mockImplementation(((...a: unknown[]) => {
      if (appendFds.has(a[0] as number)) unsynced = true;
      return realWrite(...a);
    }) as typeof fs.writeSync);
    const realFsync = fs.fsyncSync.bind(fs);
    jest.spyOn(fs, 'fsyncSync').mockImplementation((fd) => {
      realFsync(fd);
      if (appendFds.has(fd)) unsynced = false;
    });
    const realClose = fs.closeSync.bind(fs);
    jest.spyOn(fs, 'closeSync').mockImplementation((fd) => {
      const name = appendFds.get(fd);
      if (name !== undefined) {
        appends.push(unsynced ? `${name} (not fsynced)` : name);
        appendFds.delete(fd);
      }
      realClose(fd);
    });
    const writeFile = fs.promises.writeFile.bind(fs.promises);
    jest.spyOn(fs.promises, 'writeFile').mockImplementation(((...a: Parameters<typeof writeFile>) => {
      if (String(a[0]).startsWith(dir)) direct.push(`promises.writeFile ${path.basename(String(a[0]))}`);
      return writeFile(...a);
    }) as never);
    const t = trainer(setup(), { runDir: dir, plots: true, callbacks: [csvLogger(), bestCheckpoint()] }, 2);
    await t.fit({ epochs: 2 });
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(
      [
        'accuracy.png',
        'accuracy.svg',
        'best.bin',
        'best.json',
        'checkpoint.bin',
        'checkpoint.json',
        'config.json',
        'loss.png',
        'loss.svg',
        'metrics.csv',
        'metrics.jsonl',
        'model.nair',
        'steps.jsonl',
        'summary.json',
      ].sort(),
    );
    expect(files.filter((f) => !renamed.has(path.join(dir, f)))).toEqual(['steps.jsonl']);
    expect(appends).toEqual(['steps.jsonl', 'steps.jsonl']); // one fsynced append per epoch
    expect(direct).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    t.supernet.dispose();
  });

  it('a resume rewrites a checkpoint.json left one epoch behind (a crash between the renames of the pair)', async () => {
    const dir = tmpDir('pair');
    const summary = path.join(dir, 'checkpoint.json');
    let first = '';
    const grab: Callback = {
      name: 'grab',
      onCheckpoint: (_c, { epoch }) => void (epoch === 0 && (first = fs.readFileSync(summary, 'utf8'))),
    };
    const t = trainer(setup(), { runDir: dir, callbacks: [grab] }, 2);
    await t.fit({ epochs: 2 });
    const want = fs.readFileSync(summary, 'utf8');
    fs.writeFileSync(summary, first); // checkpoint.bin of epoch 2, checkpoint.json of epoch 1
    expect(JSON.parse(first).epoch).toBe(1);
    const r = trainer(setup(), { runDir: dir }, 2);
    await r.fit({ epochs: 2, resume: true });
    expect(fs.readFileSync(summary, 'utf8')).toBe(want);
    t.supernet.dispose();
    r.supernet.dispose();
  });

  it('fit removes stale temp files of interrupted writes, and nothing else, when it takes the run folder', async () => {
    const dir = tmpDir('stale');
    const stale = '.checkpoint.bin.999999.0a1b2c3d.tmp';
    fs.writeFileSync(path.join(dir, stale), 'half a checkpoint');
    fs.writeFileSync(path.join(dir, '.notes.tmp'), 'mine');
    const t = trainer(setup(), { runDir: dir, lrSchedule: { type: 'constant', lr: 0.1 } });
    await t.fit({ epochs: 1 });
    expect(fs.existsSync(path.join(dir, stale))).toBe(false);
    expect(fs.readFileSync(path.join(dir, '.notes.tmp'), 'utf8')).toBe('mine');
    t.supernet.dispose();
  });
});
