import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModelIR, type ModelIR } from '@netaug/core';
import { runCli } from '../src/program';
import { capture } from './capture';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
jest.setTimeout(300_000);

// a few seconds each on wasm: the ImageNet-form tiny model at 32×32, 250 images of five classes
const common = [
  'train',
  '--model',
  'mobilenetv2-tiny',
  '--data',
  'fashion-mnist',
  '--resolution',
  '32',
  '--subset',
  '250',
  '--test-subset',
  '100',
  '--batch',
  '50',
  '--bn-images',
  '100',
  '--backend',
  'wasm',
  '--quiet',
  '--strategy',
  'baseline',
];
const first5 = ['--only-classes', '0,1,2,3,4'];
const last5 = ['--only-classes', 'Sandal,Shirt,Sneaker,Bag,Ankle boot'];

async function train(args: string[]): Promise<{ code: number; err: string; out: string }> {
  const c = capture();
  const code = await runCli([...common, ...args], c.io);
  return { code, err: c.err, out: c.out };
}
const model = (dir: string): ModelIR => decodeModelIR(new Uint8Array(readFileSync(join(dir, 'model.nair'))));
const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));

/** Every weight tensor of a ModelIR by `<node>.<field>`. */
function tensors(ir: ModelIR): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const n of ir.nodes)
    for (const [k, v] of Object.entries(n))
      if (v && typeof v === 'object' && 'data' in v) out.set(`${n.name}.${k}`, (v as { data: Float32Array }).data);
  return out;
}
const equal = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

const pre = join(tmp, 'pretrain');

describe('netaug train --init: fine-tuning from trained weights', () => {
  beforeAll(async () => {
    const r = await train([...first5, '--epochs', '1', '--seed', '1', '--out', pre]);
    if (r.code !== 0) throw new Error(r.err);
  });

  it('other classes: a new classifier; --freeze-until (all but the classifier) + --bn keep leave every other tensor as pretrained, bit for bit', async () => {
    const out = join(tmp, 'probe');
    const r = await train([
      ...last5,
      '--epochs',
      '1',
      '--init',
      pre,
      '--freeze-until',
      '19', // stem, blocks.0…16, head.0: the classifier is unit 19
      '--bn',
      'keep',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /initialised from .*pretrain\/model\.nair \(\d+ tensors into the tiny model\), new classifier \(other classes \(T-shirt\/top, Trouser, Pullover, …\)\), layer units 0…18 frozen, batch norm keep/,
    );
    const cfg = config(out);
    expect(cfg.meta.run.lr).toBe(0.01); // the fine-tuning default
    expect(cfg.meta.canonical.init).toBe(`run:${config(pre).meta.hash}`);
    const before = tensors(model(pre));
    const after = tensors(model(out));
    const classifier = [...after.keys()].filter((k) => k.startsWith('classifier.'));
    expect(classifier.length).toBeGreaterThan(0);
    let same = 0;
    for (const [k, v] of after) {
      if (classifier.includes(k)) expect(equal(v, before.get(k)!)).toBe(false);
      else {
        expect([k, equal(v, before.get(k)!)]).toEqual([k, true]);
        same++;
      }
    }
    expect(same).toBeGreaterThan(100);
  });

  it('the same classes: the classifier is kept (a run that continues with a lower lr)', async () => {
    const out = join(tmp, 'same');
    const r = await train([...first5, '--epochs', '1', '--init', pre, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/classifier kept/);
  });

  it('a model of another architecture, an index out of range and flags without --init are one-line errors naming the problem', async () => {
    const wide = await train([
      ...last5,
      ...['--epochs', '1', '--model', 'mobilenetv2', '--width', '0.35', '--init', pre, '--out', join(tmp, 'w')],
    ]);
    expect(wide.code).toBe(1);
    expect(wide.err).toMatch(/layer head\.0\.conv: the weights' weight is \[1,1,112,448\], the tiny mobilenetv2's is \[1,1,112,1280\]/);
    expect(wide.err.trim().split('\n').filter((l) => l.startsWith('netaug: error')).length).toBe(1);
    const range = await train([...last5, '--epochs', '1', '--init', pre, '--freeze-until', '20', '--out', join(tmp, 'r')]);
    expect(range.code).toBe(1);
    expect(range.err).toMatch(/freezeUntil 20 is not a layer unit index .* 19 = all but classifier/);
    expect(range.err).toMatch(/0 stem, 1 blocks\.0, .* 18 head\.0, 19 classifier/);
    const noInit = await train([...last5, '--epochs', '1', '--bn', 'keep', '--out', join(tmp, 'n')]);
    expect(noInit.code).toBe(1);
    expect(noInit.err).toMatch(/bn is for fine-tuning: it needs init/);
    const netaug = await train([...last5, '--epochs', '1', '--init', pre, '--bn', 'keep', '--strategy', 'netaug', '--out', join(tmp, 'x')]);
    expect(netaug.code).toBe(1);
    expect(netaug.err).toMatch(/plain fine-tuning: NetAug's augmented models train their batch norm/);
    const missing = await train([...last5, '--epochs', '1', '--init', join(tmp, 'nothing'), '--out', join(tmp, 'm')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/--init .*nothing: no such file or folder/);
  });

  it('an ONNX export of the pretraining run initialises the same fine-tuning run as the run folder (identical model.nair)', async () => {
    const dir = join(tmp, 'onnx');
    const c = capture();
    // batch norm kept as BatchNormalization nodes: the import is then the pretrained model's exact tensors
    expect(await runCli(['export', '--run', pre, '--format', 'onnx', '--no-fold-bn', '--out', dir], c.io)).toBe(0);
    const fromRun = join(tmp, 'from-run');
    const fromOnnx = join(tmp, 'from-onnx');
    const a = await train([...last5, '--epochs', '1', '--init', pre, '--new-head', '--out', fromRun]);
    const b = await train([...last5, '--epochs', '1', '--init', join(dir, 'model.onnx'), '--new-head', '--out', fromOnnx]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.err).toMatch(/initialised from .*model\.onnx \(\d+ tensors into the tiny model\), new classifier \(--new-head\)/);
    expect(config(fromOnnx).meta.canonical.init).toMatch(/^sha256:[0-9a-f]{64}$/);
    const x = tensors(model(fromRun));
    const y = tensors(model(fromOnnx));
    expect([...y.keys()]).toEqual([...x.keys()]);
    expect([...x].filter(([k, v]) => !equal(v, y.get(k)!)).map(([k]) => k)).toEqual([]);
  });

  it('predict: a run folder and its ONNX and TFLite exports classify image files alike; bad input is a one-line error', async () => {
    const dir = join(tmp, 'onnx'); // exported by the previous test
    const tfl = join(tmp, 'tflite');
    expect(await runCli(['export', '--run', pre, '--format', 'tflite', '--out', tfl], capture().io)).toBe(0);
    const pre0 = JSON.parse(readFileSync(join(dir, 'preprocessing.json'), 'utf8'));
    expect(pre0).toEqual(
      expect.objectContaining({ inputShape: [32, 32, 1], layout: 'NHWC', model: 'model.onnx', classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat'] }),
    );
    // three Fashion-MNIST test images as PNG files, as a user would have them
    const { loadRunData } = await import('../src/run/build-data');
    const { parseRunConfig } = await import('../src/run/run-config');
    const d = await loadRunData(parseRunConfig({ model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 1, out: 'x' }));
    const sharp = (await import('sharp')).default;
    const files: string[] = [];
    for (const i of [0, 1, 2]) {
      const s = await d.test.get(i);
      const px = Buffer.from(Array.from(s.image, (v) => Math.round(v * 255)));
      const f = join(tmp, `item${i}.png`);
      await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(f);
      files.push(f);
    }
    const predict = async (args: string[]) => {
      const c = capture();
      const code = await runCli(['predict', ...args], c.io);
      return { code, out: c.out, err: c.err };
    };
    const byRun = await predict(['--run', pre, '--json', '--top', '5', ...files]);
    expect(byRun.code).toBe(0);
    const r = JSON.parse(byRun.out);
    expect(r.predictions).toHaveLength(3);
    for (const p of r.predictions) {
      expect(p.top).toHaveLength(5);
      const probs = p.top.map((t: { probability: number }) => t.probability);
      expect(probs).toEqual([...probs].sort((x: number, y: number) => y - x));
      expect(probs.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 5); // all five classes
    }
    for (const model of [join(dir, 'model.onnx'), join(tfl, 'model.tflite')]) {
      const other = JSON.parse((await predict(['--model', model, '--json', ...files])).out);
      expect(other.runtime).toMatch(/onnxruntime|LiteRT/);
      other.predictions.forEach((p: { top: { label: number; probability: number }[] }, i: number) => {
        expect(p.top.map((t) => t.label)).toEqual(r.predictions[i].top.map((t: { label: number }) => t.label));
        p.top.forEach((t, k) => expect(Math.abs(t.probability - r.predictions[i].top[k].probability)).toBeLessThan(1e-4));
      });
    }
    const text = await predict(['--run', pre, '--top', '2', files[0]]);
    expect(text.out).toMatch(/^item0\.png {2}\S.* \d+\.\d% {2}\S.* \d+\.\d%\n$/);
    const bare = join(tmp, 'bare.onnx');
    require('node:fs').copyFileSync(join(dir, 'model.onnx'), bare);
    expect((await predict(['--model', bare, files[0]])).err).toMatch(/no preprocessing\.json next to .*bare\.onnx/);
    expect((await predict(['--run', pre, join(tmp, 'item9.png')])).err).toMatch(/no such image file: .*item9\.png/);
    expect((await predict(['--run', pre, join(pre, 'config.json')])).err).toMatch(/cannot decode image .*config\.json/);
    expect((await predict(['--run', pre, '--model', bare, files[0]])).err).toMatch(/give one of --run .* or --model/);
  });

  it('a fine-tuning run killed after its first epoch resumes to the same weights and metrics as an uninterrupted one', async () => {
    const bin = join(__dirname, '..', 'dist', 'bin.js');
    const args = (out: string) => [bin, ...common, ...last5, '--epochs', '3', '--init', pre, '--freeze-until', '5', '--out', out];
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
    expect((await a.done).code).toBe(0);
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
    const c = spawnRun([...args(cut), '--resume']);
    const resumed = await c.done;
    expect(resumed.code).toBe(0);
    expect(resumed.err).toMatch(/resuming .*cut after epoch/);
    expect(Buffer.compare(readFileSync(join(whole, 'model.nair')), readFileSync(join(cut, 'model.nair')))).toBe(0);
    const metrics = (dir: string) =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ ...JSON.parse(l), seconds: 0 }));
    expect(metrics(cut)).toEqual(metrics(whole));
  });
});
