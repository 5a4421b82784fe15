#!/usr/bin/env node
// Cells per hour of the same study run three ways on this machine (issue: studies across machines):
//   in-process   netaug study <file> --native-threads <cores>      (one process, every core)
//   queue 1×N    one netaug worker, cells planned with N threads     (N = cores)
//   queue N×1    N netaug workers, cells planned with 1 thread each
// plus `--parallel N` with 1 thread per cell (the local equivalent of N×1 without Redis).
// Prints one JSON object. Needs redis-server (Debian package) and the built CLI. Never run it beside a study.
//   node tools/bench/study-throughput.mjs [--cells 4] [--subset 6000] [--epochs 2]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cells: { type: 'string', default: '4' },
    subset: { type: 'string', default: '6000' },
    epochs: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const BIN = resolve('packages/cli/dist/bin.js');
const cores = availableParallelism();
const root = mkdtempSync(join(tmpdir(), 'netaug-study-bench-'));
const seeds = Array.from({ length: Math.ceil(Number(values.cells) / 2) }, (_, i) => i);

const port = await new Promise((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => ok(p));
  });
});
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', root, '--appendonly', 'yes', '--save', ''],
  {
    stdio: 'ignore',
  },
);
const url = `redis://127.0.0.1:${port}`;
await new Promise((r) => setTimeout(r, 500));

function studyFile(name, threads) {
  const file = join(root, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `out: ${join(root, name)}`,
      `base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: ${values.subset}, valSplit: 1000,`,
      `  epochs: ${values.epochs}, batch: 128, lr: 0.1, augment: rrc-flip, backend: native, nativeThreads: ${threads} }`,
      `seeds: [${seeds.join(', ')}]`,
    ].join('\n'),
  );
  return file;
}

function timed(args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`netaug ${args.join(' ')} failed:\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

async function withWorkers(n, fn) {
  const ws = Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [BIN, 'worker', '--name', `bench-${i}`, '--queue', url], { stdio: 'ignore' }),
  );
  try {
    return fn();
  } finally {
    for (const w of ws) w.kill('SIGTERM');
    await Promise.all(ws.map((w) => new Promise((r) => w.once('exit', r))));
  }
}

const modes = {};
const cellsN = seeds.length * 2;
const perHour = (s) => (3600 * cellsN) / s;
modes.inProcess = { threads: cores, seconds: timed(['study', studyFile('inproc', cores)]) };
modes.parallel = {
  processes: cores,
  threads: 1,
  seconds: timed(['study', studyFile('parallel', 1), '--parallel', String(cores)]),
};
modes.queueOneWorker = {
  workers: 1,
  threads: cores,
  seconds: await withWorkers(1, () => timed(['study', studyFile('q1', cores), '--queue', url])),
};
modes.queueWorkers = {
  workers: cores,
  threads: 1,
  seconds: await withWorkers(cores, () => timed(['study', studyFile('qn', 1), '--queue', url])),
};
for (const m of Object.values(modes)) {
  m.cellsPerHour = perHour(m.seconds);
  m.vsInProcess = modes.inProcess.seconds / m.seconds;
}
redis.kill('SIGTERM');
if (!values.keep) rmSync(root, { recursive: true, force: true });
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      cores,
      cells: cellsN,
      cell: {
        model: 'mobilenetv2-tiny',
        subset: Number(values.subset),
        epochs: Number(values.epochs),
        augment: 'rrc-flip',
      },
      modes,
    },
    null,
    2,
  ),
);
