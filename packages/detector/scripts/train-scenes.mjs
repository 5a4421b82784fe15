#!/usr/bin/env node
/**
 * A longer run than the tests': trains the MobileNetV2-Tiny FCOS detector on the 200 embedded train scenes
 * (96×96) and evaluates it on the 100 test scenes, baseline and/or NetAug, with the same seed. Prints one JSON
 * line per epoch and a summary per strategy. Runs on the fastest backend available (`initBackend`; set
 * NETAUG_BACKEND / NETAUG_THREADS to choose); about 5 s (baseline) / 15 s (NetAug) per epoch on one core with the
 * native backend.
 *
 *   npx nx run @netaug/detector:build
 *   node packages/detector/scripts/train-scenes.mjs [--epochs 30] [--lr 0.2] [--seed 0] [--only baseline|netaug]
 */
import { parseArgs } from 'node:util';
import { initBackend, describeBackend } from '@netaug/backend';
import { loadEmbeddedScenes } from '@netaug/detection';
import { trainDetector } from '../dist/index.mjs';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '30' },
    lr: { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '16' },
    only: { type: 'string' },
    threads: { type: 'string', default: '1' },
  },
});
await initBackend({ threads: Number(values.threads) });
console.error(describeBackend());
const [train, test] = await Promise.all([loadEmbeddedScenes('train'), loadEmbeddedScenes('test')]);
const strategies = values.only ? [values.only] : ['baseline', 'netaug'];
const summary = [];
for (const s of strategies) {
  const t0 = Date.now();
  const r = await trainDetector({
    train,
    test,
    epochs: Number(values.epochs),
    lr: Number(values.lr),
    seed: Number(values.seed),
    batchSize: Number(values.batch),
    netaug: s === 'netaug',
    onEpoch: (e) => console.log(JSON.stringify({ strategy: s, ...e })),
  });
  const row = {
    strategy: s,
    epochs: Number(values.epochs),
    lr: Number(values.lr),
    seed: Number(values.seed),
    finalLoss: +r.epochs.at(-1).loss.toFixed(4),
    finalTinyLoss: +r.epochs.at(-1).terms.tiny.toFixed(4),
    vocMAP50: +r.vocMAP.toFixed(4),
    cocoMAP: +r.cocoMAP.toFixed(4),
    cocoAP50: +r.cocoAP50.toFixed(4),
    cocoAP75: +r.cocoAP75.toFixed(4),
    minutes: +((Date.now() - t0) / 60000).toFixed(1),
  };
  console.log(JSON.stringify({ summary: row }));
  summary.push(row);
}
console.table(summary);
