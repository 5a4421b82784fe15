/**
 * `--task detect` end to end: netaug train writes the classification run folder with detection figures, eval
 * reproduces the final test mAP from model.nair, export runs in its runtime, profile counts the neck and head
 * (checked by hand), a killed run resumes to the same bytes, and bad input gives one line and exit 1.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModelIR, modelOutputs } from '@netaug/core';
import { runCli } from '../src/program';
import { capture } from './capture';

// training runs in child processes too: a loaded 2-core machine needs time
jest.setTimeout(360_000);

const tmp = mkdtempSync(join(tmpdir(), 'netaug-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, 'run');

// a few seconds per epoch on wasm: the MobileNetV2-Tiny detector at 48×48, 32 of the embedded scenes
const common = [
  'train',
  '--task',
  'detect',
  '--resolution',
  '48',
  '--subset',
  '32',
  '--val-split',
  '16',
  '--test-subset',
  '16',
  '--batch',
  '16',
  '--bn-images',
  '32',
  '--backend',
  'wasm',
  '--quiet',
];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await runCli(args, c.io);
  return { code, out: c.out, err: c.err };
}

/** `netaug profile` of the MobileNetV2-Tiny detector at 32×32×1, 3 classes, plus `extra` flags. */
const profileDetect = (extra: string[]) =>
  cli([
    'profile',
    'mobilenetv2-tiny',
    '--task',
    'detect',
    '-r',
    '32',
    '--channels',
    '1',
    '--classes',
    '3',
    ...extra,
  ]);

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('netaug train --task detect / eval / export', () => {
  let summary: {
    final: { test: Record<string, number>; val: Record<string, number>; selected: { epoch: number } };
    files: string[];
    runDir: string;
  };

  beforeAll(async () => {
    const r = await cli([...common, '--epochs', '2', '--seed', '1', '--json', '--out', run]);
    if (r.code !== 0) throw new Error(r.err);
    summary = JSON.parse(r.out);
  });

  it('writes the classification run folder: config, metrics.jsonl with val.vocMAP / val.cocoMAP, checkpoint, model', () => {
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'steps.jsonl',
      'checkpoint.bin',
      'summary.json',
      'model.nair',
    ])
      expect([f, existsSync(join(run, f))]).toEqual([f, true]);
    const metrics = lines(join(run, 'metrics.jsonl'));
    expect(metrics.map((m) => m.epoch)).toEqual([0, 1]);
    for (const m of metrics) {
      expect(Object.keys(m.val).sort()).toEqual(['cocoAP50', 'cocoAP75', 'cocoMAP', 'count', 'vocMAP']);
      expect(m.val.count).toBe(16);
      expect(Object.keys(m.train.terms)).toEqual(['tiny', 'aug0']); // NetAug: tiny + one augmented detector
    }
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.meta.run).toMatchObject({
      task: 'detect',
      data: 'scenes',
      model: 'mobilenetv2-tiny',
      lr: 0.2,
    });
    expect(config.meta.data).toMatchObject({
      task: 'detect',
      inputShape: [48, 48, 1],
      train: 32, // --subset 32 of the training scenes left after the 16 held out for validation
      val: 16,
      test: 16,
    });
    expect(config.trainer.monitor).toBe('val.vocMAP');
    expect(config.task.name).toBe('detection');
    expect(summary.final.test.count).toBe(16);
    expect(summary.final.val.vocMAP).toBe(metrics[summary.final.selected.epoch].val.vocMAP);
    const ir = decodeModelIR(new Uint8Array(readFileSync(join(run, 'model.nair'))));
    expect(modelOutputs(ir)).toEqual(['det.pred.0', 'det.pred.1']);
    expect(ir.metadata).toMatchObject({ task: 'detection', strides: '[8,16]', bnReestimated: true });
  });

  it('eval of model.nair reproduces the final test mAP (text and JSON)', async () => {
    const j = await cli(['eval', '--run', run, '--backend', 'wasm', '--json']);
    expect(j.code).toBe(0);
    const r = JSON.parse(j.out);
    for (const k of ['vocMAP', 'cocoMAP', 'cocoAP50', 'cocoAP75'] as const)
      expect([k, r[k]]).toEqual([k, expect.closeTo(summary.final.test[k], 12)]);
    expect(r).toMatchObject({ task: 'detect', count: 16, bnReestimated: true });
    const t = await cli(['eval', '--run', run, '--backend', 'wasm']);
    expect(t.out).toMatch(
      /^VOC mAP@0\.5 \d\.\d{4} {2}COCO mAP \d\.\d{4} \(AP50 .*\) {2}on 16 images of embedded scenes/,
    );
  });

  it('exports ONNX and int8 TFLite, verified in onnxruntime and LiteRT.js on the test scenes', async () => {
    const onnx = await cli([
      'export',
      '--run',
      run,
      '--format',
      'onnx',
      '--out',
      join(tmp, 'onnx'),
      '--verify',
      '8',
      '--json',
    ]);
    expect(onnx.code).toBe(0);
    const o = JSON.parse(onnx.out);
    expect(o.verifiedImages).toBe(8);
    expect(o.maxAbsDiff).toBeLessThan(1e-4);
    expect(o.vocMAP).toBeCloseTo(o.tfjsVocMAP, 6);
    // the decoded boxes: every tfjs detection has its ONNX twin (same class, IoU ≥ 0.99) and none is extra
    expect(o.detections.reference).toBeGreaterThan(0);
    expect(o.detections).toMatchObject({ images: 8, matched: o.detections.reference, same: true });
    expect(o.detections.minIoU).toBeGreaterThanOrEqual(0.99);
    const pre = JSON.parse(readFileSync(join(tmp, 'onnx', 'preprocessing.json'), 'utf8'));
    expect(pre).toMatchObject({ task: 'detect', resize: 'letterbox', strides: [8, 16], model: 'model.onnx' });
    const int8 = await cli([
      'export',
      '--run',
      run,
      '--format',
      'tflite-int8',
      '--out',
      join(tmp, 'int8'),
      '--calibration',
      '16',
      '--verify',
      '8',
    ]);
    expect(int8.code).toBe(0);
    expect(int8.out).toMatch(
      /verified on 8 test images: max \|Δ raw output\| \S+ vs tfjs, VOC mAP@0\.5 \d\.\d{4} \(tfjs \d\.\d{4}\)\ndecoded detections: \d+ of tfjs' \d+ found \(same class, IoU ≥ 0\.99/,
    );
  });

  it('predict refuses a detector (it classifies)', async () => {
    const r = await cli(['predict', '--run', run, join(tmp, 'x.png')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is a detector: netaug predict classifies images/);
  });
});

describe('netaug profile --task detect', () => {
  it('counts the neck and head MACs as by hand (32×32, 3 classes, neck and head 32 channels)', async () => {
    const r = await profileDetect(['--json', '--layers']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.detector.levels).toEqual([
      { stride: 8, height: 4, width: 4 },
      { stride: 16, height: 2, width: 2 },
    ]);
    // neck: 1×1 laterals from the 16-channel stride-8 feature (4×4) and the 32-channel stride-16 one (2×2) to 32
    expect(p.detector.parts.neck.macs).toBe(16 * 32 * 16 + 32 * 32 * 4);
    // head, per location of both levels (16 + 4): dw 3×3 on 32, 1×1 32→32, dw 3×3 on 32, 1×1 32→32, 1×1 32→3+5
    expect(p.detector.parts.head.macs).toBe((9 * 32 + 32 * 32 + 9 * 32 + 32 * 32 + 32 * 8) * 20);
    expect(p.macs).toBe(
      p.detector.parts.backbone.macs + p.detector.parts.neck.macs + p.detector.parts.head.macs,
    );
    // the head's weights as exported: per level, 2 × (dw 288 + BN 64 + pw 1024 + BN 64) + predictor 256 + 8
    expect(p.detector.parts.head.params).toBe(2 * (2 * (288 + 64 + 1024 + 64) + 256 + 8));
    const text = await profileDetect([]);
    expect(text.out).toMatch(/detector 32×32×1 → 3 classes at strides 8 \(4×4\), 16 \(2×2\), min config/);
    expect(text.out).toMatch(/^head {5}params 6,288 {2}MACs 57,600$/m);
  });
});

describe('the detector neck and head widths', () => {
  it('profile --neck-channels 16 --head-channels 24 --head-depth 1: the neck and head MACs as by hand', async () => {
    const r = await profileDetect([
      '--neck-channels',
      '16',
      '--head-channels',
      '24',
      '--head-depth',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    // laterals to 16: from 16 channels at 4×4 and 32 channels at 2×2
    expect(p.detector.parts.neck.macs).toBe(16 * 16 * 16 + 32 * 16 * 4);
    // per location of both levels (16 + 4): dw 3×3 on 16, 1×1 16→24, predictor 1×1 24→3+5
    expect(p.detector.parts.head.macs).toBe((9 * 16 + 16 * 24 + 24 * 8) * 20);
  });

  it('train --neck-channels 16 --head-depth 1: the trained tiny detector has them', async () => {
    const out = join(tmp, 'narrow');
    const r = await cli([
      ...common,
      '--epochs',
      '1',
      '--neck-channels',
      '16',
      '--head-depth',
      '1',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const ir = decodeModelIR(readFileSync(join(out, 'model.nair')));
    const weights = (prefix: string) =>
      ir.nodes
        .filter((n) => n.name.startsWith(prefix) && n.op === 'conv2d')
        .map((n) => (n as unknown as { weight: { shape: number[] } }).weight.shape);
    const laterals = weights('neck.lateral.');
    expect(laterals.length).toBeGreaterThan(0);
    for (const shape of laterals) expect(shape[3]).toBe(16);
    // one tower layer: one depthwise node per level (the tower is shared, exported once per level)
    expect(ir.nodes.filter((n) => n.name.includes('det.tower.1')).length).toBe(0);
    expect(ir.nodes.filter((n) => n.name.includes('det.tower.0')).length).toBeGreaterThan(0);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.meta.run).toMatchObject({ task: 'detect', neckChannels: 16, headDepth: 1 });
  });

  it.each([
    [
      ['train', '--preset', 'fmnist-tiny', '--neck-channels', '16', '--epochs', '1'],
      /neckChannels is for detectors \(task detect\)/,
    ],
    [
      ['profile', 'mobilenetv2-tiny', '--head-depth', '1'],
      /--head-depth is for detectors: add --task detect/,
    ],
    [
      ['profile', 'mobilenetv2-tiny', '--task', 'detect', '--head-depth', '-1'],
      /--head-depth must be an integer ≥ 0/,
    ],
  ])('%j: one line, exit 1', async (args, pattern) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('netaug train --task detect: exact resume', () => {
  it('a run killed after its first epoch resumes to the same model and metrics as an uninterrupted one', async () => {
    const bin = join(__dirname, '..', 'dist', 'bin.js');
    const args = (out: string) => [bin, ...common, '--epochs', '3', '--seed', '2', '--out', out];
    const whole = join(tmp, 'whole');
    const cut = join(tmp, 'cut');
    const spawnRun = (a: string[]) => {
      const p = spawn(process.execPath, a, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      const done = new Promise<{ code: number | null; err: string }>((res) =>
        p.on('exit', (code) => res({ code, err })),
      );
      return { p, done };
    };
    const a = spawnRun(args(whole));
    const wholeRun = await a.done;
    expect(wholeRun.code).toBe(0);
    const b = spawnRun(args(cut));
    // kill as soon as the first epoch's checkpoint is there
    await new Promise<void>((res) => {
      const t = setInterval(() => {
        if (existsSync(join(cut, 'checkpoint.bin'))) {
          clearInterval(t);
          b.p.kill('SIGKILL');
          res();
        }
      }, 20);
    });
    await b.done;
    expect(existsSync(join(cut, 'summary.json'))).toBe(false);
    const resumed = await spawnRun([...args(cut), '--resume']).done;
    expect(resumed.code).toBe(0);
    expect(resumed.err).toMatch(/resuming .*cut after epoch 1 of 3/);
    expect(
      Buffer.compare(readFileSync(join(whole, 'model.nair')), readFileSync(join(cut, 'model.nair'))),
    ).toBe(0);
    const metrics = (dir: string) => lines(join(dir, 'metrics.jsonl')).map((m) => ({ ...m, seconds: 0 }));
    expect(metrics(cut)).toEqual(metrics(whole));
    expect(metrics(whole)).toHaveLength(3);
  });
});

describe('netaug train --task detect: bad input gives one line and exit 1', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'classification data',
      [...common, '--epochs', '1', '--data', 'fashion-mnist', '--out', join(tmp, 'a')],
      /data 'fashion-mnist' is not detection data/,
    ],
    [
      'a missing COCO file',
      [...common, '--epochs', '1', '--data', 'coco:/nonexistent/train.json', '--out', join(tmp, 'b')],
      /COCO annotation file '\/nonexistent\/train\.json' does not exist/,
    ],
    [
      'a classification augmentation',
      [...common, '--epochs', '1', '--augment', 'rrc-flip', '--out', join(tmp, 'c')],
      /augment 'rrc-flip' is for classification; a detection run takes none or flip/,
    ],
    [
      'fine-tuning',
      [...common, '--epochs', '1', '--init', run, '--out', join(tmp, 'd')],
      /task detect does not support init/,
    ],
    [
      'an input size the strides do not divide',
      [...common, '--epochs', '1', '--resolution', '40', '--out', join(tmp, 'e')],
      /input 40×40 is not divisible by stride 16/,
    ],
    [
      'an unknown task',
      ['profile', 'mobilenetv2-tiny', '--task', 'segment'],
      /--task must be classify or detect, got 'segment'/,
    ],
    [
      'compare (its report compares top-1)',
      ['compare', '--task', 'detect', '--epochs', '1', '--out', join(tmp, 'f')],
      /netaug compare does not take --task detect yet/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, pattern) => {
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
