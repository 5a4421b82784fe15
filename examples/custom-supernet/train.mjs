// Your own model, trained with NetAug by @netaug/trainer: a block type and a model spec, registered with
// @netaug/supernet, which builds the supernet (weights for the widest augmented model, `setActive`, `forward`,
// `sortChannels`, `extract`) from them.
//
// A small CNN  conv3×3 → BN → ReLU → conv3×3 stride 2 → BN → ReLU → global average pool → dense. The first conv is
// the built-in `conv` block (its channels follow a width multiplier); the second is `expand-conv`, a block type
// written here, whose channels follow an expand factor.
//
//   node examples/custom-supernet/train.mjs [--out runs/examples/custom-supernet] [--epochs 4]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, describeBackend } from '@netaug/backend';
import { profile, validateModelIR } from '@netaug/core';
import { buildTfModel, createSupernet, registerModel } from '@netaug/supernet';
import { ArrayLoader, Trainer, labelSmoothing, netaug, progress, textureTask } from '@netaug/trainer';

// the block type `expand-conv`: registered when its module is imported (the same file is a CLI plugin:
// `netaug train --model-spec … --plugin examples/custom-supernet/expand-conv.mjs`)
import './expand-conv.mjs';

// The model: JSON data (stem, blocks with their `type` and arguments, head, classifier), channels of the TINY
// model. `createSupernet('small-conv', …)` builds it; `listModels()` lists it.
registerModel(
  'small-conv',
  {
    stem: { type: 'conv', c: 6, k: 3, s: 1, act: 'relu' },
    blocks: [{ type: 'expand-conv', c: 12, k: 3, s: 2 }],
  },
  { description: 'a small CNN from the custom-supernet example', paperResolution: 8 },
);

/** Largest |a − b| of two tensors' values. */
function maxDiff(a, b) {
  const x = a.dataSync();
  const y = b.dataSync();
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'runs/examples/custom-supernet' },
      epochs: { type: 'string', default: '4' },
    },
  });
  const epochs = Number(values.epochs);
  const backend = await initBackend(); // tensorflow → native → wasm → cpu, or NETAUG_BACKEND
  console.log(`backend: ${describeBackend()}`);

  const net = createSupernet('small-conv', { inputShape: [8, 8, 1], numClasses: 4, seed: 0 });
  console.log(`choice points: ${JSON.stringify(net.choices)}`);
  const x = tf.tensor4d(textureTask(8, { seed: 9 }).images, [8, 8, 8, 1]);

  // 1. check the contract before training: sorting keeps the widest network's function
  net.setActive('max');
  const before = net.forward(x, { training: false });
  const perms = net.sortChannels();
  const after = net.forward(x, { training: false });
  console.log(
    `sortChannels: ${perms.length} variables permuted, widest network max |Δ| ${maxDiff(before, after).toExponential(1)}`,
  );
  tf.dispose([before, after]);

  // 2. the tiny model and the largest augmented model
  for (const mode of ['min', 'max']) {
    net.setActive(mode);
    const p = profile(validateModelIR(net.extract()));
    console.log(`${mode}: ${JSON.stringify(net.getActive())} params ${p.params} MACs ${p.macs}`);
  }

  // 3. NetAug training: every step adds the loss of one sampled augmented model to the tiny model's loss
  const train = textureTask(512, { seed: 1 });
  const val = textureTask(256, { seed: 2 });
  fs.rmSync(values.out, { recursive: true, force: true });
  const trainer = new Trainer({
    supernet: net,
    trainLoader: new ArrayLoader({ ...train, batchSize: 32, seed: 0 }),
    valLoader: new ArrayLoader({ ...val, batchSize: 128, shuffle: false }),
    optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
    strategies: [netaug({ epochs }), labelSmoothing(0.1)],
    callbacks: [progress({ plain: true })],
    bnReestimation: { images: 256 },
    runDir: values.out,
    plots: false,
  });
  const summary = await trainer.fit({ epochs });
  // metrics.jsonl: one record per epoch; `terms` are the mean loss of the tiny model and of the augmented one
  const last = JSON.parse(
    fs.readFileSync(path.join(values.out, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1),
  );
  const terms = Object.entries(last.train.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`);
  console.log(
    `trained ${summary.globalStep} steps on ${backend.name}; last epoch's loss terms: ${terms.join(', ')}`,
  );
  console.log(
    `tiny model top-1: ${summary.final.val.top1.toFixed(4)} (epoch ${summary.final.selected.epoch + 1}, BN re-estimated), ${summary.final.sharedStats.top1.toFixed(4)} (last epoch, shared BN statistics)`,
  );

  // 4. the extracted tiny model computes what the supernet computes at 'min' (eval mode)
  net.setActive('min');
  const ir = net.extract();
  const fromNet = net.forward(x, { training: false });
  const model = buildTfModel(ir);
  const fromIr = model.predict(x);
  console.log(
    `extract(): ${ir.nodes.length} nodes, params ${profile(ir).params}; |forward − IR| ${maxDiff(fromNet, fromIr).toExponential(1)}`,
  );
  console.log(`run folder: ${values.out} (${fs.readdirSync(values.out).sort().join(', ')})`);
  tf.dispose([x, fromNet, fromIr]);
  model.dispose();
  net.dispose();
}

await main();
