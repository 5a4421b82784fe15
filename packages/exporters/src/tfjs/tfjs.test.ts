import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { Shape3 } from '@netaug/core';
import { fitBatchNormStats, mobilenetLike, randomImages, stack, unstack } from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { verifyTfjs } from '../verify/tfjs';
import { exportTfjs } from './export';
import { fsIOHandler } from './fs-io-handler';
import { loadTfjsModel } from './load';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-tfjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function weightsByName(d: string): Promise<Map<string, Uint8Array>> {
  const art = await fsIOHandler(d).load();
  const data = new Uint8Array(art.weightData as ArrayBuffer);
  const out = new Map<string, Uint8Array>();
  let o = 0;
  for (const w of art.weightSpecs!) {
    const n = w.shape.reduce((a, b) => a * b, 1) * 4;
    out.set(w.name, data.subarray(o, o + n));
    o += n;
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each([[[28, 28, 1] as Shape3], [[32, 32, 3] as Shape3]])('tfjs export, input %j', (shape) => {
  const ir = fitBatchNormStats(mobilenetLike(shape), randomImages(shape, 8, 5));
  const imgs = randomImages(shape, 8, 3);
  const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);

  it.each([
    ['BN kept', false],
    ['BN folded', true],
  ])('reloads and matches runModelIR (%s)', async (_l, foldBN) => {
    const out = path.join(dir, `${ir.name}-${foldBN}`);
    const { files, bytes } = await exportTfjs(ir, out, { foldBN });
    expect(files.map((f) => path.basename(f))).toEqual(['group1-shard1of1.bin', 'model.json']);
    const { comparison } = await verifyTfjs(out, imgs, { expected });
    console.log(
      `tfjs ${ir.name} ${_l}: ${bytes} bytes, max abs diff ${comparison!.maxAbsDiff.toExponential(2)}`,
    );
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
  });

  it('exports bit-identically twice, and a reloaded model saves the same weights', async () => {
    const a = path.join(dir, `${ir.name}-a`);
    const b = path.join(dir, `${ir.name}-b`);
    await exportTfjs(ir, a);
    await exportTfjs(ir, b);
    for (const f of readdirSync(a))
      expect(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f)))).toBe(true);
    // round trip through tfjs: load, save with the same handler, compare weights and predictions
    const model = await loadTfjsModel(a);
    const c = path.join(dir, `${ir.name}-c`);
    await model.save(fsIOHandler(c) as unknown as Parameters<typeof model.save>[0]);
    // tfjs lists non-trainable weights (BN moving stats) last, so compare weight by weight
    const [wa, wc] = [await weightsByName(a), await weightsByName(c)];
    expect([...wc.keys()].sort()).toEqual([...wa.keys()].sort());
    for (const [k, v] of wa) expect(Buffer.from(wc.get(k)!).equals(Buffer.from(v))).toBe(true);
    const x = tf.tensor(stack(imgs), [imgs.length, ...shape]);
    const p1 = (model.predict(x) as tf.Tensor).dataSync();
    const reloaded = await loadTfjsModel(c);
    const p2 = (reloaded.predict(x) as tf.Tensor).dataSync();
    expect(Buffer.from(p1.buffer).equals(Buffer.from(p2.buffer))).toBe(true);
    model.dispose();
    reloaded.dispose();
    x.dispose();
  });
});

it('splits weights into shards of at most shardBytes', async () => {
  const ir = mobilenetLike([28, 28, 1]);
  const out = path.join(dir, 'sharded');
  const { files } = await exportTfjs(ir, out, { shardBytes: 20_000 });
  const shards = files.filter((f) => f.endsWith('.bin'));
  expect(shards.length).toBeGreaterThan(2);
  const imgs = randomImages([28, 28, 1], 2, 1);
  const { comparison } = await verifyTfjs(out, imgs, {
    expected: unstack(runModelIR(ir, stack(imgs), 2), 2),
  });
  expect(comparison!.maxAbsDiff).toBeLessThan(1e-5);
});
