'use strict';
/*
 * Child process of fault-injection.test.ts (also runs by hand: `node packages/trainer/test/fault-child.js <runDir>`).
 * Trains a small deterministic run — TinySupernet, texture task, cpu backend, 4 epochs, a checkpoint every epoch —
 * into <runDir> (with steps.jsonl and TensorBoard event files), resuming from its checkpoint when there is one. It loads the BUILT packages (`npm run build`
 * first; `npm test` does), so it runs exactly what users run.
 *
 * NETAUG_FAULT_HANG=<n>:<phase> makes it stop dead inside its n-th checkpoint write (1-based, counted in this
 * process) and print "HANG" on stderr, so that the parent can SIGKILL it right there. A checkpoint write is the
 * pair checkpoint.json (first) + checkpoint.bin (renamed last). Phases:
 *   json    half of checkpoint.json's temporary file is written
 *   open    checkpoint.bin's temporary file was just created (empty)
 *   half    half of the checkpoint bytes are written
 *   fsync   both temporary files are complete and fsynced, nothing renamed yet
 *   between checkpoint.json is in place, checkpoint.bin not yet
 *   renamed both are in place, the folder not yet fsynced
 */
const fs = require('node:fs');
const path = require('node:path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
require('@netaug/backend').registerTrainingGradients(); // gradient functions (tfjs-core alone has none)
const {
  ArrayLoader,
  TinySupernet,
  Trainer,
  labelSmoothing,
  netaug,
  tensorboard,
  textureTask,
} = require('@netaug/trainer');

const EPOCHS = 4;

function hang() {
  real.writeSync(2, 'HANG\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until SIGKILL
}

const real = {
  openSync: fs.openSync,
  writeSync: fs.writeSync,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
};

function installHook(spec) {
  const [n, phase] = spec.split(':');
  const nth = Number(n);
  let writes = 0;
  /** Descriptors of the n-th write's temporary files while they are open (fd numbers are reused after close). */
  let binFd = -1;
  let jsonFd = -1;
  const isTemp = (p, base) => {
    const b = path.basename(String(p));
    return b.startsWith(`.${base}.`) && b.endsWith('.tmp');
  };
  fs.openSync = function (p, ...rest) {
    const fd = real.openSync.call(fs, p, ...rest);
    if (isTemp(p, 'checkpoint.bin') && ++writes === nth) {
      binFd = fd;
      if (phase === 'open') hang();
    } else if (isTemp(p, 'checkpoint.json') && writes === nth) jsonFd = fd;
    return fd;
  };
  fs.writeSync = function (fd, buf, off, len, pos) {
    if ((phase === 'half' && fd === binFd) || (phase === 'json' && fd === jsonFd)) {
      const bytes = typeof buf === 'string' ? Buffer.from(buf) : buf;
      const start = typeof off === 'number' ? off : 0;
      const count = typeof len === 'number' ? len : bytes.length - start;
      const at = typeof pos === 'number' ? pos : null;
      real.writeSync.call(fs, fd, bytes, start, Math.max(1, Math.floor(count / 2)), at);
      hang();
    }
    return real.writeSync.apply(fs, arguments);
  };
  fs.fsyncSync = function (fd) {
    real.fsyncSync.call(fs, fd);
    if (phase === 'fsync' && fd === binFd) hang();
  };
  fs.closeSync = function (fd) {
    real.closeSync.call(fs, fd);
    if (fd === binFd) binFd = -1;
    if (fd === jsonFd) jsonFd = -1;
  };
  fs.renameSync = function (from, to) {
    real.renameSync.call(fs, from, to);
    if (writes !== nth) return;
    const target = path.basename(String(to));
    if (phase === 'between' && target === 'checkpoint.bin') hang();
    if (phase === 'renamed' && target === 'checkpoint.json') hang();
  };
}

async function main() {
  const runDir = process.argv[2];
  if (!runDir) throw new Error('usage: fault-child.js <runDir>');
  if (process.env.NETAUG_FAULT_HANG) installHook(process.env.NETAUG_FAULT_HANG);
  await tf.setBackend('cpu');
  await tf.ready();
  tf.backend().firstUse = false; // no "use tfjs-node" banner
  const train = textureTask(64, { seed: 1 });
  const val = textureTask(32, { seed: 2 });
  const trainer = new Trainer({
    supernet: new TinySupernet({ seed: 1 }),
    trainLoader: new ArrayLoader({ ...train, batchSize: 16, seed: 3 }),
    valLoader: new ArrayLoader({ ...val, batchSize: 32, shuffle: false }),
    optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
    strategies: [netaug({ epochs: EPOCHS, stopWidthEpoch: 1 }), labelSmoothing(0.1)],
    bnReestimation: { images: 32 },
    plots: false,
    runDir,
    callbacks: [tensorboard()],
  });
  await trainer.fit({ epochs: EPOCHS, resume: 'auto' });
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
