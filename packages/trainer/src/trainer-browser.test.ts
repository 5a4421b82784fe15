/*
 * The browser build's trainer, run in Node: no run folder, checkpoints in a CheckpointStore. Its run must be the
 * Node trainer's run — the same checkpoint bytes as <runDir>/checkpoint.bin, the same final model as model.nair —
 * and a resume from the store must continue it exactly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeModelIR, NetAugError } from '@netaug/core';
import type { Callback } from './callbacks/callback';
import { decodeCheckpoint, memoryCheckpointStore, type CheckpointStore } from './checkpoint-format';
import { fileCheckpointStore } from './checkpoint';
import { indexedDbCheckpointStore } from './checkpoint-indexeddb';
import { labelSmoothing, netaug } from './strategies';
import { Trainer as NodeTrainer, type TrainerOptions } from './trainer';
import { Trainer as BrowserTrainer } from './trainer-browser';
import { removeTmpDirs, setup, tmpDir, useCpu, values } from './test-utils';

beforeAll(useCpu);
afterAll(removeTmpDirs);

const options = (s: ReturnType<typeof setup>, extra: Partial<TrainerOptions> = {}): TrainerOptions => ({
  supernet: s.supernet,
  trainLoader: s.trainLoader,
  valLoader: s.valLoader,
  optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
  lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
  strategies: [netaug({ epochs: 3, stopWidthEpoch: 1 }), labelSmoothing(0.1)],
  bnReestimation: { images: 32 },
  plots: false,
  ...extra,
});

const weights = (t: { supernet: NodeTrainer['supernet'] }) =>
  t.supernet.variables().map((v) => Buffer.from(values(v.variable).buffer));

test('checkpoints in a store: the same bytes as the Node run folder, the same final model, an exact resume', async () => {
  const dir = tmpDir('browser-trainer');
  const node = new NodeTrainer(options(setup(), { runDir: dir }));
  const nodeSummary = await node.fit({ epochs: 2 });

  const store = memoryCheckpointStore();
  const losses: number[] = [];
  const recorder: Callback = { name: 'recorder', onBatchEnd: (_c, s) => void losses.push(s.loss) };
  const browser = new BrowserTrainer(options(setup(), { checkpointStore: store, callbacks: [recorder] }));
  const summary = await browser.fit({ epochs: 2 });

  // what the run folder holds, the store holds byte for byte; nothing else is written anywhere
  const fileBytes = fs.readFileSync(path.join(dir, 'checkpoint.bin'));
  expect(Buffer.from(store.entries.get('checkpoint.bin')!).equals(fileBytes)).toBe(true);
  expect(new TextDecoder().decode(store.entries.get('checkpoint.json'))).toBe(
    fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'),
  );
  expect([...store.entries.keys()].sort()).toEqual(['checkpoint.bin', 'checkpoint.json']);
  expect(summary.files).toEqual([]);
  expect({ ...summary, seconds: 0, stepsPerSecond: 0 }).toEqual({
    ...nodeSummary,
    seconds: 0,
    stepsPerSecond: 0,
    files: [],
  });
  // the in-memory run state: history, the per-step losses of the callback, the final model as model.nair
  expect(browser.history.map((r) => r.epoch)).toEqual([0, 1]);
  expect(losses).toHaveLength(2 * browser.trainLoader.batchesPerEpoch);
  expect(
    Buffer.from(encodeModelIR(browser.finalModel!)).equals(fs.readFileSync(path.join(dir, 'model.nair'))),
  ).toBe(true);
  expect(decodeCheckpoint(store.entries.get('checkpoint.bin')!).globalStep).toBe(losses.length);

  // a third epoch in one go vs a new trainer resuming from the store (browser) and from the folder (Node)
  await browser.fit({ epochs: 3 });
  const resumed = new BrowserTrainer(options(setup(), { checkpointStore: snapshotOf(store) }));
  await resumed.fit({ epochs: 3, resume: true });
  expect(weights(resumed)).toEqual(weights(browser));
  expect(resumed.history.map((r) => r.train.loss)).toEqual(browser.history.map((r) => r.train.loss));
  browser.dispose();
  resumed.dispose();
  node.dispose();
});

/** A store holding a copy of `store`'s entries as they are now (the state after epoch 2). */
function snapshotOf(store: ReturnType<typeof memoryCheckpointStore>): CheckpointStore {
  const copy = memoryCheckpointStore();
  for (const [k, v] of store.entries) copy.entries.set(k, v.slice());
  return copy;
}

test('fileCheckpointStore is the run folder: a Node trainer given it writes the checkpoint files runDir writes', async () => {
  const dir = tmpDir('file-store');
  const t = new NodeTrainer(options(setup(), { checkpointStore: fileCheckpointStore(dir) }));
  await t.fit({ epochs: 2 });
  expect(fs.readdirSync(dir).sort()).toEqual(['checkpoint.bin', 'checkpoint.json']);
  expect(decodeCheckpoint(fs.readFileSync(path.join(dir, 'checkpoint.bin'))).epoch).toBe(2);
  t.dispose();
});

test('the browser trainer rejects runDir and a resume without a store, naming the fix', async () => {
  const s = setup();
  expect(() => new BrowserTrainer(options(s, { runDir: 'runs/x' }))).toThrow(
    expect.objectContaining({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining("runDir ('runs/x') needs a file system"),
      hint: expect.stringContaining('checkpointStore'),
    }),
  );
  const t = new BrowserTrainer(options(s));
  const err = await t.fit({ epochs: 1, resume: true }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NetAugError);
  expect((err as NetAugError).message).toBe('fit: resume needs trainer option runDir or checkpointStore');
  t.dispose();
  const empty = new BrowserTrainer(options(setup(), { checkpointStore: memoryCheckpointStore() }));
  const missing = await empty.fit({ epochs: 1, resume: true }).catch((e: unknown) => e);
  expect((missing as NetAugError).code).toBe('CHECKPOINT');
  expect((missing as NetAugError).message).toMatch(/^No checkpoint at memory:checkpoint\.bin — train first/);
  empty.dispose();
});

test('indexedDbCheckpointStore says where it cannot work (Node has no IndexedDB)', () => {
  expect(() => indexedDbCheckpointStore('run')).toThrow(
    expect.objectContaining({
      code: 'IO',
      message: expect.stringMatching(
        /^indexedDbCheckpointStore: this runtime has no IndexedDB — use it in a browser/,
      ),
    }),
  );
});
