#!/usr/bin/env node
// The README's demo. Until the trainer lands it prints the zoo's profile table (paper settings and the
// small-input forms); it grows into "train with and without NetAug on the embedded data".
import { runCli } from '@netaug/cli';

const cases = [
  ['mobilenetv2-tiny'],
  ['mobilenetv2', '--width', '0.35'],
  ['proxylessnas', '--width', '0.35'],
  ['mcunet'],
  ['mobilenetv3', '--width', '0.35'],
  ['mobilenetv2-tiny', '--resolution', '28', '--channels', '1', '--small-input', '--classes', '10'],
  ['mobilenetv2', '--width', '0.35', '--resolution', '32', '--small-input', '--classes', '10'],
];
console.log('NetAug.js demo: the tiny models of the zoo (params include BN; MACs of conv + linear layers)\n');
for (const args of cases) {
  const code = await runCli(['profile', ...args]);
  if (code !== 0) process.exit(code);
  await runCli(['profile', ...args, '--config', 'max']);
  console.log();
}
