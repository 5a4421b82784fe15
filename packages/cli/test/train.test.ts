import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../src/program';
import { capture } from './capture';

// these tests train in child processes: a loaded 2-core machine (CI next to other work) needs more than 120 s
jest.setTimeout(360_000);

const tmp = mkdtempSync(join(tmpdir(), 'netaug-cli-'));
const run = join(tmp, 'run');
// a few seconds on wasm: ImageNet-form tiny model at 32×32, 256 images, one epoch
const trainArgs = [
  'train',
  '--model',
  'mobilenetv2-tiny',
  '--data',
  'fashion-mnist',
  '--resolution',
  '32',
  '--subset',
  '256',
  '--test-subset',
  '200',
  '--epochs',
  '1',
  '--batch',
  '64',
  '--lr',
  '0.1',
  '--bn-images',
  '128',
  '--seed',
  '3',
  '--backend',
  'wasm',
  '--quiet',
  '--json',
];

describe('netaug train / eval / export', () => {
  let summary: { final: { test: { top1: number; count: number } }; files: string[] };

  beforeAll(async () => {
    const c = capture();
    const code = await runCli([...trainArgs, '--strategy', 'netaug', '--out', run], c.io);
    if (code !== 0) throw new Error(c.err);
    summary = JSON.parse(c.out);
  });

  it('writes the run folder', () => {
    for (const f of [
      'metrics.jsonl',
      'config.json',
      'checkpoint.bin',
      'model.nair',
      'summary.json',
      'loss.png',
      'accuracy.svg',
    ]) {
      expect(existsSync(join(run, f))).toBe(true);
    }
    expect(summary.final.test.count).toBe(200);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  it('records the gradient-checkpointing decision (auto: off for this small model at batch 64)', () => {
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(cfg.meta.recompute).toEqual(
      expect.objectContaining({ recompute: false, reason: expect.stringMatching(/^auto: /) }),
    );
    expect(cfg.meta.recompute.estimatedBytes).toBeGreaterThan(0);
    expect(cfg.meta.recompute.estimatedBytes).toBeLessThan(2 * 1024 ** 3);
    expect(cfg.trainer.recompute).toBe(false);
  });

  it('eval of the exported tiny model reproduces the trainer’s final (BN re-estimated) accuracy', async () => {
    const c = capture();
    expect(await runCli(['eval', '--run', run, '--backend', 'wasm', '--json'], c.io)).toBe(0);
    const r = JSON.parse(c.out);
    expect(r).toEqual(expect.objectContaining({ count: 200, bnReestimated: true }));
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(['top1', 'top5', 'loss', 'count', 'bnReestimated']),
    );
    expect(Math.abs(r.top1 - summary.final.test.top1)).toBeLessThanOrEqual(1 / 200 + 1e-9);
  });

  it('eval refuses data the model does not fit and names damaged run files', async () => {
    // a 2-class image folder: the model predicts Fashion-MNIST's 10 classes
    const folder = join(tmp, 'two-classes');
    for (const cls of ['cat', 'dog'])
      for (let i = 0; i < 10; i++) {
        mkdirSync(join(folder, cls), { recursive: true });
        await sharp({
          create: { width: 28, height: 28, channels: 3, background: { r: 20 * i, g: 90, b: 10 } },
        })
          .png()
          .toFile(join(folder, cls, `${i}.png`));
      }
    const c = capture();
    expect(await runCli(['eval', '--run', run, '--data', folder, '--backend', 'wasm'], c.io)).toBe(1);
    expect(c.err).toMatch(
      /\[SHAPE_MISMATCH\]: the model of .* predicts 10 classes \(T-shirt\/top, .*; .*two-classes has 2 \(cat, dog\)/,
    );

    const broken = join(tmp, 'broken-run');
    mkdirSync(broken);
    writeFileSync(join(broken, 'config.json'), readFileSync(join(run, 'config.json')));
    writeFileSync(join(broken, 'model.nair'), readFileSync(join(run, 'model.nair')).subarray(0, 1000));
    const d = capture();
    expect(await runCli(['eval', '--run', broken, '--backend', 'wasm'], d.io)).toBe(1);
    expect(d.err).toMatch(/\[RUN_FOLDER\]: .*broken-run\/model\.nair is damaged/);
    writeFileSync(join(broken, 'config.json'), '{"meta": ');
    const e = capture();
    expect(await runCli(['eval', '--run', broken, '--backend', 'wasm'], e.io)).toBe(1);
    expect(e.err).toMatch(/\[RUN_FOLDER\]: .*broken-run\/config\.json is not valid JSON/);
  });

  it('exports ONNX and verifies it in onnxruntime on real test images', async () => {
    const c = capture();
    const out = join(tmp, 'onnx');
    expect(
      await runCli(
        ['export', '--run', run, '--format', 'onnx', '--out', out, '--verify', '50', '--json'],
        c.io,
      ),
    ).toBe(0);
    const r = JSON.parse(c.out);
    expect(r.format).toBe('onnx');
    expect(r.bytes).toBeGreaterThan(4 * 300000);
    expect(r.verifiedImages).toBe(50);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.top1Agreement).toBe(1);
    expect(r.params).toBe(305482); // the ImageNet form has the same weights as the small-input form
  });

  it('exports int8 TFLite with per-layer weight scales (smaller) or per-channel everywhere, verified in LiteRT.js', async () => {
    const sizes: Record<string, number> = {};
    for (const mode of ['auto', 'per-channel']) {
      const c = capture();
      const out = join(tmp, `int8-${mode}`);
      const args = ['export', '--run', run, '--format', 'tflite-int8', '--out', out, '--calibration', '64'];
      expect(await runCli([...args, '--int8-weights', mode, '--verify', '50', '--json'], c.io)).toBe(0);
      const r = JSON.parse(c.out);
      expect(r).toMatchObject({ format: 'tflite-int8', verifiedImages: 50 });
      expect(r.top1Agreement).toBeGreaterThan(0.5);
      sizes[mode] = r.bytes;
    }
    expect(sizes.auto).toBeLessThan(sizes['per-channel']);
    const c = capture();
    const bad = [
      'export',
      '--run',
      run,
      '--format',
      'tflite-int8',
      '--out',
      join(tmp, 'x8'),
      '--int8-weights',
      'none',
    ];
    expect(await runCli(bad, c.io)).toBe(1);
    expect(c.err).toMatch(/--int8-weights must be auto or per-channel, got 'none'/);
  });

  it('refuses --c-header for a non-TFLite format before writing anything', async () => {
    const c = capture();
    const out = join(tmp, 'nope');
    expect(await runCli(['export', '--run', run, '--format', 'onnx', '--out', out, '--c-header'], c.io)).toBe(
      1,
    );
    expect(c.err).toMatch(/--c-header is for TFLite-Micro/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('netaug train: bad input gives one line and exit 1', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown preset',
      ['train', '--preset', 'imagenet-resnet'],
      /Unknown preset 'imagenet-resnet'.*fmnist-tiny/,
    ],
    [
      'missing data path',
      ['train', '--preset', 'fmnist-tiny', '--data', '/nonexistent/data', '--out', join(tmp, 'x')],
      /data path '\/nonexistent\/data' does not exist/,
    ],
    ['unknown flag', ['train', '--preset', 'fmnist-tiny', '--epoch', '3'], /unknown option '--epoch'/],
    [
      'bad flag value',
      ['train', '--preset', 'fmnist-tiny', '--batch', '0'],
      /--batch must be a positive integer/,
    ],
    ['missing model', ['train', '--data', 'fashion-mnist', '--epochs', '1'], /missing 'model'/],
    [
      'contradicting flags',
      ['train', '--preset', 'fmnist-tiny', '--recompute', '--no-recompute'],
      /--recompute and --no-recompute contradict each other/,
    ],
    [
      'a NetAug-only key for the baseline',
      ['train', '--preset', 'fmnist-tiny', '--strategy', 'baseline', '--alpha', '0.5'],
      /alpha applies to NetAug only, not to the baseline/,
    ],
    [
      'channels other than 1 or 3',
      ['train', '--preset', 'fmnist-tiny', '--channels', '2'],
      /channels: must be 1 \(grayscale\) or 3 \(RGB\)/,
    ],
    [
      'a data folder that does not exist',
      [
        'train',
        '--preset',
        'fmnist-tiny',
        '--data-dir',
        '/nonexistent/dir',
        '--backend',
        'wasm',
        '--out',
        join(tmp, 'dd'),
      ],
      /dataDir '\/nonexistent\/dir' does not exist/,
    ],
    [
      'a subset larger than the data',
      [
        'train',
        '--preset',
        'fmnist-tiny',
        '--subset',
        '700000',
        '--backend',
        'wasm',
        '--out',
        join(tmp, 'ss'),
      ],
      /subset 700000 is more than the \d+ training images left after the validation split/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, pattern) => {
    const c = capture();
    expect(await runCli(args, c.io)).toBe(1);
    expect(c.err).toMatch(pattern);
    expect(c.err.trim().split('\n')).toHaveLength(1);
  });

  it('a whole training run leaves no tensor behind (studies train many runs in one process)', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const once = async (out: string) => {
      const c = capture();
      expect(
        await runCli(
          [
            ...trainArgs,
            '--strategy',
            'netaug',
            '--epochs',
            '2',
            '--val-split',
            '64',
            '--out',
            join(tmp, out),
          ],
          c.io,
        ),
      ).toBe(0);
      return tf.memory().numTensors;
    };
    const first = await once('leak-1');
    expect(await once('leak-2')).toBe(first);
  }, 300_000);

  it('a model spec file with a block type from an ESM plugin: profiled, trained with NetAug, exported', () => {
    // the built command, as a user runs it: the CLI is CommonJS, the plugin ESM (two copies of @netaug/supernet
    // share one block registry)
    const bin = join(__dirname, '..', 'dist', 'bin.js');
    const netaug = (args: string[]) => {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`netaug ${args[0]} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    };
    const fixtures = join(__dirname, 'fixtures', 'user-model');
    const spec = join(fixtures, 'small-conv.yaml');
    // the plugin is the custom-supernet example's block module (one copy of the block code)
    const plugin = join(__dirname, '..', '..', '..', 'examples', 'custom-supernet', 'expand-conv.mjs');
    const prof = JSON.parse(
      netaug([
        'profile',
        '--model-spec',
        spec,
        '--plugin',
        plugin,
        '--channels',
        '1',
        '--classes',
        '10',
        '--json',
      ]),
    );
    // 28×28×1: stem 3·3·1·8 + BN 16 = 88; expand-conv 3·3·8·16 + 32 = 1,184; conv 3·3·16·24 + 48 = 3,504;
    // classifier 24·10 + 10 = 250 → 5,026 params
    expect(prof).toMatchObject({ model: 'small-conv', inputShape: [28, 28, 1], params: 5026 });
    const out = join(tmp, 'user-model');
    const args = [
      'train',
      '--model-spec',
      spec,
      '--plugin',
      plugin,
      '--data',
      'fashion-mnist',
      '--subset',
      '256',
    ];
    const rest = [
      '--val-split',
      '64',
      '--test-subset',
      '100',
      '--epochs',
      '2',
      '--batch',
      '64',
      '--lr',
      '0.05',
    ];
    const summary = JSON.parse(
      netaug([
        ...args,
        ...rest,
        '--strategy',
        'netaug',
        '--backend',
        'wasm',
        '--quiet',
        '--json',
        '--out',
        out,
      ]),
    );
    expect(summary.model.params).toBe(5026);
    expect(summary.final.test.count).toBe(100);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.supernet.name).toBe('small-conv');
    expect(cfg.meta.canonical.modelSpec).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(cfg.meta.modelSpec).toContain('expand-conv');
    // eval and export need only the run folder's model.nair
    const e = JSON.parse(
      netaug([
        'export',
        '--run',
        out,
        '--format',
        'onnx',
        '--out',
        join(tmp, 'user-onnx'),
        '--verify',
        '20',
        '--json',
      ]),
    );
    expect(e.top1Agreement).toBe(1);
  });

  it('a diverged run (lr 1000) stops with NUMERIC and says which checkpoint is kept', async () => {
    const c = capture();
    const args = [
      ...trainArgs.filter((a) => a !== '--json'),
      '--lr',
      '1000',
      '--epochs',
      '3',
      '--warmup-epochs',
      '2',
    ];
    expect(await runCli([...args, '--out', join(tmp, 'div')], c.io)).toBe(1);
    expect(c.err).toMatch(
      /\[NUMERIC\]: training diverged at epoch \d+, step \d+: tiny-model loss .* > 10 × its first-epoch mean .*; the last good checkpoint \(epoch \d+\) is kept in .*div\/checkpoint\.bin/,
    );
  });

  it('malformed config files name the key or the syntax problem', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      'model: mobilenetv2-tiny\ndata: fashion-mnist\nepochs: many\nbatch: 64\nlr: 0.1\nout: runs/x\n',
    );
    const c = capture();
    expect(await runCli(['train', '--config', bad], c.io)).toBe(1);
    expect(c.err).toMatch(/epochs/);
    expect(c.err.trim().split('\n')).toHaveLength(1);
    const typo = join(tmp, 'typo.json');
    writeFileSync(
      typo,
      JSON.stringify({
        model: 'mcunet',
        data: 'fashion-mnist',
        epochs: 1,
        batch: 8,
        lr: 0.1,
        out: 'x',
        learningRate: 1,
      }),
    );
    const d = capture();
    expect(await runCli(['train', '--config', typo], d.io)).toBe(1);
    expect(d.err).toMatch(/unknown key 'learningRate'/);
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'model: [unclosed\n');
    const e = capture();
    expect(await runCli(['train', '--config', broken], e.io)).toBe(1);
    expect(e.err).toMatch(/not valid YAML/);
  });

  it('--val-split holds out class-balanced training images, chooses the epoch on them, reads the test data once', async () => {
    const out = join(tmp, 'val');
    const c = capture();
    const args = [
      ...trainArgs.filter((a) => a !== '--json'),
      '--json',
      '--epochs',
      '2',
      '--val-split',
      '100',
    ];
    expect(await runCli([...args, '--strategy', 'baseline', '--tensorboard', '--out', out], c.io)).toBe(0);
    // per-step scalars and TensorBoard files: 256 images / batch 64 = 4 steps per epoch, 2 epochs
    expect(readFileSync(join(out, 'steps.jsonl'), 'utf8').trim().split('\n')).toHaveLength(8);
    expect(readdirSync(join(out, 'tensorboard')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(
      true,
    );
    const s = JSON.parse(c.out);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.val.count)).toEqual([100, 100]);
    const best = lines[0].val.top1 >= lines[1].val.top1 ? (lines[1].val.top1 > lines[0].val.top1 ? 1 : 0) : 1;
    expect(s.final.selected).toEqual({ epoch: best, rule: 'best-val' });
    expect(s.final.val).toEqual(lines[best].val);
    expect(s.final.test.count).toBe(200);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    // 100 images (10 per class) held out of the training set first, then the 256-image subset of the rest
    expect(cfg.meta.data).toEqual(expect.objectContaining({ train: 256, val: 100, test: 200 }));
    expect(cfg.meta.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(cfg.meta.canonical).toEqual(
      expect.objectContaining({ backend: 'wasm', threads: 1, valSplit: 100 }),
    );
    expect(cfg.meta.canonical.out).toBeUndefined();

    const bad = capture();
    expect(
      await runCli(
        [...args, '--select', 'best-val', '--val-split', '100000', '--out', join(tmp, 'v2')],
        bad.io,
      ),
    ).toBe(1);
    expect(bad.err).toMatch(/valSplit 100000 leaves no training images: the training data has \d+/);
    const none = capture();
    const noVal = args.filter((a, i) => a !== '--val-split' && args[i - 1] !== '--val-split');
    expect(await runCli([...noVal, '--select', 'best-val', '--out', join(tmp, 'v3')], none.io)).toBe(1);
    expect(none.err).toMatch(/select 'best-val' needs a validation split/);
  });

  it('a run folder is never overwritten or mixed: finished, other config, interrupted, locked, unwritable', async () => {
    const own = join(tmp, 'own');
    const again = async (extra: string[], out = own) => {
      const c = capture();
      const code = await runCli([...trainArgs, '--strategy', 'netaug', '--out', out, ...extra], c.io);
      return { code, err: c.err, out: c.out };
    };
    expect((await again([])).code).toBe(0);
    const finished = await again([]);
    expect(finished.code).toBe(1);
    expect(finished.err).toMatch(/\[RUN_FOLDER\]: .* holds a finished run of this config .*--overwrite/);
    const same = await again(['--resume']);
    expect(same.code).toBe(0);
    expect(same.err).toMatch(/already holds this run, finished: nothing to do/);
    const changed = await again(['--resume', '--lr', '0.05']);
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/holds a finished run of another config \(lr: 0\.1 → 0\.05\)/);
    expect(JSON.parse(readFileSync(join(own, 'config.json'), 'utf8')).meta.run.lr).toBe(0.1); // nothing was touched

    const fresh = join(tmp, 'fresh');
    const nothing = await again(['--resume'], fresh);
    expect(nothing.code).toBe(0);
    expect(nothing.err).toMatch(
      /nothing to resume in .*fresh \(no checkpoint\): starting from the beginning/,
    );
    const over = await again(['--overwrite', '--seed', '4'], fresh);
    expect(over.code).toBe(0);
    expect(over.err).toMatch(/--overwrite: removed the previous run's files/);
    expect(JSON.parse(readFileSync(join(fresh, 'config.json'), 'utf8')).meta.run.seed).toBe(4);
    // an interrupted run (checkpoint, no summary): refused without --resume, continued with it
    rmSync(join(fresh, 'summary.json'));
    const interrupted = await again(['--seed', '4'], fresh);
    expect(interrupted.code).toBe(1);
    expect(interrupted.err).toMatch(
      /holds an interrupted run of this config \(1 of 1 epochs done\).*--resume/,
    );
    const resumed = await again(['--seed', '4', '--resume'], fresh);
    expect(resumed.code).toBe(0);
    expect(resumed.err).toMatch(/resuming .*fresh after epoch 1 of 1/);

    // a file where the folder should be: refused before any data is loaded
    const blocker = join(tmp, 'blocker');
    writeFileSync(blocker, 'x');
    const blocked = await again([], join(blocker, 'run'));
    expect(blocked.code).toBe(1);
    expect(blocked.err).toMatch(/\[IO\]: cannot write the run folder .*blocker\/run: /);

    const damaged = join(tmp, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'config.json'), '{"epochs": 1, "me');
    const bad = await again(['--resume'], damaged);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/damaged\/config\.json is not valid JSON/);

    // a live process holds the folder
    const locked = join(tmp, 'locked');
    mkdirSync(locked);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(
        join(locked, 'run.lock'),
        JSON.stringify({ pid: holder.pid, host: hostname(), started: '2026-12-05T00:00:00Z' }),
      );
      const held = await again([], locked);
      expect(held.code).toBe(1);
      expect(held.err).toMatch(new RegExp(`is being trained by process ${holder.pid}`));
    } finally {
      holder.kill();
    }
  });
});
