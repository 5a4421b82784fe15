/**
 * Runs every example under examples/ as a user would (`node examples/<name>/<script>.mjs`, importing the BUILT
 * workspace packages) on the wasm backend, and checks the values it prints and the files it writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, assertOk, childEnv, run, type RunResult } from './support/workspace';

const EXAMPLES = path.join(ROOT, 'examples');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-examples-'));
const env = childEnv({ NETAUG_BACKEND: 'wasm' }); // the same backend everywhere (native/tfjs-node if installed would win)

afterAll(() => {
  if (!process.env.NETAUG_KEEP_TMP) fs.rmSync(out, { recursive: true, force: true });
});

async function runExample(script: string, args: string[] = []): Promise<{ r: RunResult; dir: string }> {
  const dir = path.join(out, path.dirname(script));
  const r = await run(process.execPath, [path.join(EXAMPLES, script), '--out', dir, ...args], {
    cwd: ROOT,
    env,
    timeoutMs: 180000,
  });
  assertOk(`node examples/${script}`, r);
  return { r, dir };
}

/** The number captured by `re` (first group) in `text`; fails when absent. */
function grab(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) throw new Error(`output has no match for ${re}:\n${text}`);
  return Number(m[1]);
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

test('examples/README.md lists every example with its command', () => {
  const readme = fs.readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8');
  const dirs = fs.readdirSync(EXAMPLES).filter((d) => fs.statSync(path.join(EXAMPLES, d)).isDirectory());
  // web is a page, run in headless Chromium by tools/test/web.test.ts
  expect(dirs.sort()).toEqual(['custom-dataset', 'custom-supernet', 'export-model-ir', 'web']);
  for (const d of dirs) {
    const files = fs.readdirSync(path.join(EXAMPLES, d)).filter((f) => f.endsWith('.mjs'));
    const sources = files.map((f) => fs.readFileSync(path.join(EXAMPLES, d, f), 'utf8'));
    // a module another script of the example imports (e.g. custom-supernet's block) is not a command of its own
    const scripts = files.filter(
      (f) => !sources.some((src) => src.includes(`from './${f}'`) || src.includes(`import './${f}'`)),
    );
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(readme).toContain(`node examples/${d}/${s}`);
  }
});

test('custom-supernet: a user-written Supernet trains with NetAug; sorting and extract() are exact', async () => {
  const { r, dir } = await runExample('custom-supernet/train.mjs', ['--epochs', '4']);
  expect(r.stdout).toMatch(/^backend: wasm \(/m);
  expect(grab(r.stdout, /widest network max \|Δ\| (\S+)/)).toBeLessThan(1e-5);
  // tiny: conv 3·3·1·6 + BN 2·6 + conv 3·3·6·12 + BN 2·12 + dense 12·4 + 4 = 54 + 12 + 648 + 24 + 52 = 790
  expect(r.stdout).toContain('min: {"width":[1],"expand":[1]} params 790 ');
  // widest: 6·2.6 → 16 and 12·2.8 → 34 channels: 144 + 32 + 4896 + 68 + 136 + 4 = 5280
  expect(r.stdout).toContain('max: {"width":[2.6],"expand":[2.8]} params 5280 ');
  expect(r.stdout).toMatch(/loss terms: tiny [\d.]+, aug0 [\d.]+/);
  expect(grab(r.stdout, /\|forward − IR\| (\S+)/)).toBeLessThan(1e-5);
  const summary = readJson(path.join(dir, 'summary.json'));
  expect(summary).toMatchObject({ epochs: 4, globalStep: 64, model: { params: 790 } });
  expect(summary.final.val.top1).toBeGreaterThanOrEqual(0.8);
  expect(fs.existsSync(path.join(dir, 'model.nair'))).toBe(true);
});

test('custom-dataset: a Dataset over a CSV recording is split, batched and trained on', async () => {
  const { r, dir } = await runExample('custom-dataset/train.mjs', ['--epochs', '3']);
  expect(fs.readFileSync(path.join(dir, 'recording.csv'), 'utf8').split('\n')[0]).toBe('t,ax,ay,az,activity');
  const windows = grab(r.stdout, /^dataset: (\d+) windows of \[1,32,3\]/m);
  const trainN = grab(r.stdout, /train (\d+), val \d+$/m);
  const valN = grab(r.stdout, /train \d+, val (\d+)$/m);
  expect(windows).toBeGreaterThan(500);
  expect(trainN + valN).toBe(windows);
  expect(r.stdout).toMatch(/^example 0: label \d \((still|walk|run|shake)\), 96 values$/m);
  const summary = readJson(path.join(dir, 'run', 'summary.json'));
  expect(summary.epochs).toBe(3);
  expect(summary.final.val.count).toBe(valN);
  expect(summary.final.val.top1).toBeGreaterThanOrEqual(0.8); // chance is 0.25
});

test('export-model-ir: a hand-built ModelIR exports to four formats, each verified in its runtime', async () => {
  const { r, dir } = await runExample('export-model-ir/export.mjs');
  expect(r.stdout).toMatch(/^ModelIR 'hand-built': 22 nodes, output \[5\], params 1405, MACs \d+$/m);
  const rows = readJson(path.join(dir, 'verification.json')) as {
    format: string;
    bytes: number;
    maxAbsDiff: number;
    top1Agreement: number;
  }[];
  expect(rows.map((x) => x.format)).toEqual(['tfjs', 'onnx', 'tflite', 'tflite-int8']);
  for (const row of rows.slice(0, 3)) {
    expect([row.format, row.maxAbsDiff < 1e-5, row.top1Agreement]).toEqual([row.format, true, 1]);
  }
  const int8 = rows[3];
  expect(int8.top1Agreement).toBeGreaterThanOrEqual(0.9); // LiteRT.js vs the same quantization simulated in JS
  expect(int8.maxAbsDiff).toBeLessThan(0.05);
  for (const f of ['model.onnx', 'model.tflite', 'model_int8.tflite', 'web_model/model.json', 'model.nair'])
    expect(fs.statSync(path.join(dir, f)).size).toBeGreaterThan(100);
  expect(fs.readFileSync(path.join(dir, 'model_data.h'), 'utf8')).toMatch(/model_data/);
});
