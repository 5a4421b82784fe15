// Your own supernet, trained with NetAug by @netaug/trainer.
//
// A small CNN  conv3×3 → BN → ReLU → conv3×3 stride 2 → BN → ReLU → global average pool → dense,
// written against the `Supernet<tf.Tensor, tf.Variable>` contract of @netaug/core with the dynamic layers of
// @netaug/supernet (each owns the weights of the widest augmented model and runs on its FIRST channels).
// Two choice points: the first conv's channels follow a width multiplier, the second conv's an expand factor.
//
//   node examples/custom-supernet/train.mjs [--out runs/examples/custom-supernet] [--epochs 4]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, describeBackend } from '@netaug/backend';
import { DEFAULT_AUGMENT_SPACE, NetAugError, isActiveMode, profile, validateModelIR } from '@netaug/core';
import { DynamicBatchNorm, DynamicConv2d, DynamicLinear, buildTfModel } from '@netaug/supernet';
import { ArrayLoader, Trainer, labelSmoothing, netaug, progress, textureTask } from '@netaug/trainer';

/** @typedef {import('@netaug/core').ActiveConfig} ActiveConfig */
/** @typedef {import('@netaug/core').ActiveMode} ActiveMode */
/** @typedef {import('@netaug/core').ChannelPermutation} ChannelPermutation */
/** @typedef {import('@netaug/core').ModelIR} ModelIR */

/** @implements {import('@netaug/core').Supernet<tf.Tensor, tf.Variable>} */
export class SmallConvSupernet {
  name = 'small-conv';
  space = {
    widthMults: [...DEFAULT_AUGMENT_SPACE.widthMults],
    expandFactors: [...DEFAULT_AUGMENT_SPACE.expandFactors],
  };
  /** One width choice point (`conv1`) and one expand choice point (`conv2`), in ActiveConfig order. */
  choices = { width: ['conv1'], expand: ['conv2'] };

  /**
   * @param {{ inputShape?: [number, number, number], numClasses?: number, conv1?: number, conv2?: number, seed?: number }} o
   *   `conv1` / `conv2`: the TINY model's channel counts.
   */
  constructor(o = {}) {
    this.inputShape = o.inputShape ?? [8, 8, 1];
    this.numClasses = o.numClasses ?? 4;
    this.base = { conv1: o.conv1 ?? 6, conv2: o.conv2 ?? 12 };
    const init = { seed: o.seed ?? 0 };
    const c1Max = this.channels(this.base.conv1, Math.max(...this.space.widthMults));
    const c2Max = this.channels(this.base.conv2, Math.max(...this.space.expandFactors));
    this.conv1 = new DynamicConv2d(
      'conv1',
      { kernel: 3, stride: 1, inMax: this.inputShape[2], outMax: c1Max },
      init,
    );
    this.bn1 = new DynamicBatchNorm('bn1', c1Max);
    this.conv2 = new DynamicConv2d('conv2', { kernel: 3, stride: 2, inMax: c1Max, outMax: c2Max }, init);
    this.bn2 = new DynamicBatchNorm('bn2', c2Max);
    this.fc = new DynamicLinear('fc', c2Max, this.numClasses, init);
    /** @type {ActiveConfig} */
    this.active = { width: [1], expand: [1] };
  }

  channels(base, factor) {
    return Math.max(1, Math.round(base * factor));
  }

  /** Active channel counts of the two convs. */
  activeChannels() {
    return [
      this.channels(this.base.conv1, this.active.width[0]),
      this.channels(this.base.conv2, this.active.expand[0]),
    ];
  }

  /**
   * @param {ActiveMode | ActiveConfig} mode
   * @param {import('@netaug/core').Rng} [rng] needed by the sampling modes
   * @returns {ActiveConfig}
   */
  setActive(mode, rng) {
    const { widthMults: W, expandFactors: E } = this.space;
    if (isActiveMode(mode)) {
      const pick = (list, sample) => {
        if (!sample) return list[0];
        if (!rng) throw new NetAugError('INVALID_ARGUMENT', `setActive('${mode}') needs an Rng`);
        return rng.choice(list);
      };
      if (mode === 'max') this.active = { width: [W.at(-1)], expand: [E.at(-1)] };
      else
        this.active = {
          width: [pick(W, mode === 'random' || mode === 'min_e')],
          expand: [pick(E, mode === 'random' || mode === 'min_w')],
        };
    } else {
      if (
        mode.width.length !== 1 ||
        mode.expand.length !== 1 ||
        !W.includes(mode.width[0]) ||
        !E.includes(mode.expand[0])
      )
        throw new NetAugError('INVALID_ARGUMENT', `not a config of ${this.name}: ${JSON.stringify(mode)}`);
      this.active = { width: [...mode.width], expand: [...mode.expand] };
    }
    return this.getActive();
  }

  getActive() {
    return { width: [...this.active.width], expand: [...this.active.expand] };
  }

  /** Logits `[N, numClasses]` of the active sub-network. */
  forward(x, { training }) {
    return tf.tidy(() => {
      const [c1, c2] = this.activeChannels();
      let y = tf.relu(this.bn1.apply(this.conv1.apply(x, c1), training));
      y = tf.relu(this.bn2.apply(this.conv2.apply(y, c2), training));
      return this.fc.apply(tf.mean(y, [1, 2]));
    });
  }

  variables() {
    return [this.conv1, this.bn1, this.conv2, this.bn2, this.fc].flatMap((layer) => layer.variables());
  }

  trainableVariables() {
    return this.variables()
      .filter((v) => v.trainable)
      .map((v) => v.variable);
  }

  /**
   * NetAug's channel sorting: conv1's output channels by the L1 norm of conv2's matching input slices, conv2's
   * output channels by the L1 norm of the classifier rows they feed. The same permutation is applied to every
   * variable that indexes those channels, so the widest network computes the same function afterwards.
   * @returns {ChannelPermutation[]}
   */
  sortChannels() {
    const perms = [];
    const l1 = (v, axis) =>
      tf.tidy(() =>
        tf
          .sum(
            tf.abs(v),
            v.shape.map((_, i) => i).filter((i) => i !== axis),
          )
          .dataSync(),
      );
    const order = (score) => Int32Array.from([...score.keys()].sort((a, b) => score[b] - score[a] || a - b));
    const apply = (perm, targets) => {
      for (const [nv, axis] of targets) {
        tf.tidy(() => nv.variable.assign(tf.gather(nv.variable, tf.tensor1d(perm, 'int32'), axis)));
        perms.push({ variable: nv.name, axis, perm });
      }
    };
    const bnAxes = (bn) => bn.variables().map((v) => [v, 0]);
    apply(order(l1(this.conv2.weight.variable, 2)), [
      [this.conv1.weight, 3],
      ...bnAxes(this.bn1),
      [this.conv2.weight, 2],
    ]);
    apply(order(l1(this.fc.weight.variable, 0)), [
      [this.conv2.weight, 3],
      ...bnAxes(this.bn2),
      [this.fc.weight, 0],
    ]);
    return perms;
  }

  /** The active sub-network as a static ModelIR (weights copied). @returns {ModelIR} */
  extract() {
    const [c1, c2] = this.activeChannels();
    const cin = this.inputShape[2];
    const conv = (name, input, layer, inC, outC, s) => ({
      op: 'conv2d',
      name,
      inputs: [input],
      strides: [s, s],
      padding: 'same',
      ...layer.export(inC, outC),
    });
    return {
      schemaVersion: 1,
      name: this.name,
      inputShape: [...this.inputShape],
      numClasses: this.numClasses,
      output: 'fc',
      metadata: { width: this.active.width[0], expand: this.active.expand[0] },
      nodes: [
        { op: 'input', name: 'input', inputs: [], shape: [...this.inputShape] },
        conv('conv1', 'input', this.conv1, cin, c1, 1),
        { op: 'batchNorm', name: 'bn1', inputs: ['conv1'], ...this.bn1.export(c1) },
        { op: 'activation', name: 'relu1', inputs: ['bn1'], activation: 'relu' },
        conv('conv2', 'relu1', this.conv2, c1, c2, 2),
        { op: 'batchNorm', name: 'bn2', inputs: ['conv2'], ...this.bn2.export(c2) },
        { op: 'activation', name: 'relu2', inputs: ['bn2'], activation: 'relu' },
        { op: 'globalAvgPool', name: 'pool', inputs: ['relu2'], keepDims: false },
        { op: 'dense', name: 'fc', inputs: ['pool'], ...this.fc.export(c2) },
      ],
    };
  }

  dispose() {
    for (const v of this.variables()) v.variable.dispose();
  }
}

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

  const net = new SmallConvSupernet({ inputShape: [8, 8, 1], numClasses: 4, seed: 0 });
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
  model.dispose?.();
  net.dispose();
}

await main();
