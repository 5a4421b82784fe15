#!/usr/bin/env node
// The README's demo: trains MobileNetV2-Tiny on the embedded Fashion-MNIST subset (or the full Debian copy when
// installed) with and without NetAug, prints both accuracies and writes a comparison plot.
// Same settings as `netaug train --preset fmnist-tiny`; pass extra flags through, e.g. `npm run demo -- --epochs 2`.
import { runCli } from '@netaug/cli';
import { plotComparison } from '@netaug/trainer';
import { readFileSync } from 'node:fs';

const extra = process.argv.slice(2);
const runs = { baseline: 'runs/demo-baseline', netaug: 'runs/demo-netaug' };
console.log('NetAug.js demo: MobileNetV2-Tiny on Fashion-MNIST, baseline vs NetAug (preset fmnist-tiny).');
console.log('A NetAug step trains the tiny model plus one sampled augmented model (≈5× the MACs), so it takes longer.\n');
for (const [strategy, out] of Object.entries(runs)) {
  const code = await runCli(['train', '--preset', 'fmnist-tiny', '--strategy', strategy, '--out', out, '--plain', ...extra]);
  if (code !== 0) process.exit(code);
}
const plot = await plotComparison(runs, 'runs/demo-compare');
console.log('\nresult (top-1 on the test images, tiny model after BN re-estimation):');
for (const [strategy, dir] of Object.entries(runs)) {
  const s = JSON.parse(readFileSync(`${dir}/summary.json`, 'utf8'));
  const r = s.final?.reestimated ?? s.final?.sharedStats;
  console.log(`  ${strategy.padEnd(8)} ${(100 * r.top1).toFixed(2)}%  (${r.count} images, ${s.seconds.toFixed(0)} s)`);
}
console.log(`plot: ${plot.png}`);
