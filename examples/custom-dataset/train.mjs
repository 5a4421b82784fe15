// Your own `Dataset`, fed to NetAug training.
//
// The example first writes a CSV recording of a 3-axis accelerometer (50 Hz; columns t,ax,ay,az,activity; four
// activities: still, walk, run, shake), then implements the `Dataset` contract of @netaug/core over it: example i
// is a window of 32 samples, an "image" of shape [1, 32, 3] (height 1, width = time, channels = axes) whose
// label is the activity of the window. @netaug/data's loader batches it (seeded shuffling, exact resume) and
// splits it; @netaug/trainer's TinySupernet (3×3 conv → 1×1 conv → pool → dense) is trained on it with NetAug.
// (The zoo's createSupernet rejects inputs under 2×2 in the small-input form; a window is one pixel high.)
//
//   node examples/custom-dataset/train.mjs [--out runs/examples/custom-dataset] [--epochs 3]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@netaug/backend';
import { NetAugError, Rng, profile } from '@netaug/core';
import { createLoader, splitDataset } from '@netaug/data';
import { TinySupernet, Trainer, labelSmoothing, netaug, progress } from '@netaug/trainer';

const ACTIVITIES = ['still', 'walk', 'run', 'shake'];
const HZ = 50;

/** Writes a synthetic recording: segments of 4–8 s per activity, in random order. */
function writeRecording(file, seconds, seed) {
  const rng = new Rng(seed);
  const rows = ['t,ax,ay,az,activity'];
  let t = 0;
  while (t < seconds * HZ) {
    const label = rng.int(ACTIVITIES.length);
    const length = Math.round(rng.uniform(4, 8) * HZ);
    const f = [0, rng.uniform(1.6, 2.2), rng.uniform(2.6, 3.4), rng.uniform(6, 8)][label]; // step / shake frequency, Hz
    const amp = [0, 1, 2.5, 1.5][label];
    const phase = rng.uniform(0, 2 * Math.PI);
    for (let i = 0; i < length; i++, t++) {
      const s = Math.sin((2 * Math.PI * f * i) / HZ + phase);
      const ax = (label === 3 ? amp * s : 0.2 * amp * s) + 0.05 * rng.normal();
      const ay = (label === 3 ? 0 : 0.3 * amp * Math.cos((2 * Math.PI * f * i) / HZ)) + 0.05 * rng.normal();
      const az = 1 + (label === 1 || label === 2 ? amp * Math.abs(s) : 0) + 0.05 * rng.normal(); // gravity + steps
      rows.push(
        `${(t / HZ).toFixed(2)},${ax.toFixed(4)},${ay.toFixed(4)},${az.toFixed(4)},${ACTIVITIES[label]}`,
      );
    }
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
}

/**
 * Sliding windows over a CSV recording, as a `Dataset` (@netaug/core): `size`, `shape`, `classNames`, `get(i)`.
 * It also carries `labels` (an Int32Array), which @netaug/data's `splitDataset` / `subset` use to stratify.
 * @implements {import('@netaug/core').Dataset}
 */
export class SensorWindows {
  /** @param {string} csvFile @param {{ window?: number, stride?: number }} [o] */
  constructor(csvFile, o = {}) {
    const window = o.window ?? 32;
    const stride = o.stride ?? 16;
    const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
    if (lines[0] !== 't,ax,ay,az,activity')
      throw new NetAugError('DATA_FORMAT', `${csvFile}: expected the header t,ax,ay,az,activity`);
    const values = new Float32Array((lines.length - 1) * 3);
    const activity = [];
    lines.slice(1).forEach((line, r) => {
      const cells = line.split(',');
      for (let c = 0; c < 3; c++) values[r * 3 + c] = Number(cells[c + 1]);
      activity.push(cells[4]);
    });
    this.classNames = ACTIVITIES;
    this.shape = [1, window, 3];
    // keep the windows that lie inside one activity segment
    const starts = [];
    const labels = [];
    for (let s = 0; s + window <= activity.length; s += stride) {
      if (activity[s] === activity[s + window - 1]) {
        starts.push(s);
        labels.push(ACTIVITIES.indexOf(activity[s]));
      }
    }
    this.values = values;
    this.starts = Int32Array.from(starts);
    this.labels = Int32Array.from(labels);
    this.size = starts.length;
  }

  /** Example `i`: HWC floats `[1, window, 3]` (time-major, 3 axes per step) and its class index. */
  get(i) {
    const [, window, c] = this.shape;
    const s = this.starts[i];
    return { image: this.values.slice(s * c, (s + window) * c), label: this.labels[i] };
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'runs/examples/custom-dataset' },
      epochs: { type: 'string', default: '3' },
    },
  });
  const epochs = Number(values.epochs);
  fs.rmSync(values.out, { recursive: true, force: true });
  fs.mkdirSync(values.out, { recursive: true });
  const csv = path.join(values.out, 'recording.csv');
  writeRecording(csv, 240, 7);
  const backend = await initBackend();

  const all = new SensorWindows(csv);
  const { train, val } = splitDataset(all, { valFraction: 0.25, seed: 0 }); // stratified by `labels`
  const counts = ACTIVITIES.map((a, k) => `${a} ${all.labels.filter((l) => l === k).length}`);
  console.log(
    `dataset: ${all.size} windows of [${all.shape}] from ${path.basename(csv)} (${counts.join(', ')}); train ${train.size}, val ${val.size}`,
  );
  const first = await all.get(0);
  console.log(
    `example 0: label ${first.label} (${all.classNames[first.label]}), ${first.image.length} values`,
  );

  const net = new TinySupernet({ inputShape: all.shape, numClasses: 4, width: 8, expand: 16, seed: 0 });
  net.setActive('min');
  const p = profile(net.extract());
  console.log(
    `supernet: ${net.name} on [${all.shape}], tiny model params ${p.params} MACs ${p.macs}, backend ${backend.name}`,
  );

  const trainer = new Trainer({
    supernet: net,
    trainLoader: createLoader(train, { batchSize: 32, seed: 0, dropLast: true }),
    valLoader: createLoader(val, { batchSize: 64, shuffle: false }),
    optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    lrSchedule: { type: 'cosine', baseLr: 0.05, warmupEpochs: 1 },
    strategies: [netaug({ epochs }), labelSmoothing(0.1)],
    callbacks: [progress({ plain: true })],
    bnReestimation: { images: 256 },
    runDir: path.join(values.out, 'run'),
    plots: false,
  });
  const summary = await trainer.fit({ epochs });
  const r = summary.final.val; // the best-validation epoch's model, BN re-estimated
  console.log(
    `val top-1 ${r.top1.toFixed(4)} (${r.count} windows, BN re-estimated), chance 0.25; ${summary.globalStep} steps in ${summary.seconds.toFixed(1)} s`,
  );
  net.dispose();
}

await main();
