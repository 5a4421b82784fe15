/**
 * A study on a real job queue: redis-server (appendonly, random port, temp folder) and two `netaug worker`
 * processes; one worker is killed with SIGKILL in the middle of a cell; the study must still complete, and the
 * interrupted cell must end exactly as an uninterrupted run of the same cell.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/program';
import { trainRun } from '../src/run/train-run';
import type { StudyResults } from '../src/study/report';
import { startRedis, type RedisServer } from '../../queue/test/redis-server';
import { capture } from './capture';
import { QUEUE_PREFIX } from '@netaug/queue';

const BIN = join(__dirname, '..', 'dist', 'bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'netaug-queue-'));
const out = join(tmp, 'study');
const file = join(tmp, 'q.yaml');
writeFileSync(
  file,
  [
    'name: q',
    `out: ${out}`,
    'base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: 600, valSplit: 100, testSubset: 200,',
    '  epochs: 3, batch: 50, lr: 0.05, bnImages: 100, backend: wasm }',
    'seeds: [0, 1]',
    'arms: { baseline: { config: { strategy: baseline } }, netaug: { config: { strategy: netaug } } }',
    'compare: [{ treatment: netaug, control: baseline }]',
  ].join('\n'),
);

let redis: RedisServer;
const workers: ChildProcess[] = [];
const logs: string[] = [];

function startWorker(name: string): ChildProcess {
  const w = spawn(
    process.execPath,
    [BIN, 'worker', '--name', name, '--lock-duration', '3000', '--stalled-interval', '1000'],
    { env: { ...process.env, NETAUG_QUEUE_URL: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  w.stderr!.on('data', (d) => logs.push(`[${name}] ${d}`));
  workers.push(w);
  return w;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: build the CLI first (npm test builds everything)`);
  redis = await startRedis();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
});

test('two workers, one killed mid-epoch: the study completes and the interrupted cell equals an uninterrupted run', async () => {
  const a = startWorker('wa');
  startWorker('wb');
  const c = capture();
  const study = runCli(['study', file, '--queue', redis.url, '--json'], c.io);

  // wait until worker A trains a cell that has finished its first epoch, then kill A (SIGKILL, no cleanup)
  let killed: { runDir: string; child: number } | undefined;
  let twoAtATime = false;
  for (let i = 0; i < 600 && !killed; i++) {
    await sleep(200);
    const status = capture();
    await runCli(['study', file, '--queue', redis.url, '--status', '--json'], status.io);
    if (!status.out) continue;
    const st = JSON.parse(status.out) as {
      atATime: number;
      cells: { where: string; epoch: number; runDir: string; status: string }[];
    };
    const { cells } = st;
    // the time left counts the cells training now as the cells trained at a time (the study's own settings say 1)
    const running = cells.filter((x) => x.status === 'running').length;
    expect(st.atATime).toBe(Math.max(1, running));
    if (running === 2) twoAtATime = true;
    const mine = cells.find(
      (x) => x.where === 'wa' && x.epoch >= 1 && existsSync(join(x.runDir, 'run.lock')),
    );
    if (mine) {
      const lock = JSON.parse(readFileSync(join(mine.runDir, 'run.lock'), 'utf8'));
      a.kill('SIGKILL');
      killed = { runDir: mine.runDir, child: lock.pid };
    }
  }
  expect(killed).toBeDefined();
  expect(twoAtATime).toBe(true);
  // its training process ends with it (no orphan keeps writing the folder another worker resumes)
  for (let i = 0; i < 50 && alive(killed!.child); i++) await sleep(100);
  expect(alive(killed!.child)).toBe(false);

  expect(await study).toBe(0);
  const results = JSON.parse(c.out) as StudyResults;
  expect(results.cells).toHaveLength(4);
  expect(results.unfinished).toEqual([]);
  const log = readFileSync(join(killed!.runDir, 'train.log'), 'utf8');
  expect(log).toMatch(/resuming .* after epoch [12] of 3/);
  expect(logs.join('')).toMatch(/\[wb\] .* started on wb/);

  // the same cell, uninterrupted, in this process
  const cfg = JSON.parse(readFileSync(join(killed!.runDir, 'cell.json'), 'utf8'));
  const ref = await trainRun({ ...cfg, out: join(tmp, 'reference') }, { quiet: true, log: () => undefined });
  const got = JSON.parse(readFileSync(join(killed!.runDir, 'summary.json'), 'utf8'));
  expect(got.final).toEqual(ref.summary.final);
  expect(
    readFileSync(join(killed!.runDir, 'model.nair')).equals(
      readFileSync(join(tmp, 'reference', 'model.nair')),
    ),
  ).toBe(true);
  // the report was written (by the study command and/or the last worker)
  expect(existsSync(join(out, 'reports', 'q', 'report.md'))).toBe(true);
}, 600_000);

test('a password in the queue URL appears nowhere; a worker that cannot see the study folder refuses to start', async () => {
  const secret = 'pw-s3cret-9f2c';
  const guarded = await startRedis({ password: secret });
  const root = mkdtempSync(join(tmpdir(), 'netaug-queue-pw-'));
  const f = join(root, 'pw.yaml');
  writeFileSync(
    f,
    [
      'name: pw',
      `out: ${join(root, 'study')}`,
      'base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: 200, valSplit: 100, testSubset: 100,',
      '  epochs: 1, batch: 50, bnImages: 100, backend: wasm, strategy: baseline }',
      'seeds: [0, 1]',
      'arms: { baseline: {} }',
      'compare: []',
    ].join('\n'),
  );
  const said: string[] = [];
  try {
    const enq = capture();
    expect(await runCli(['study', f, '--queue', guarded.url, '--no-wait'], enq.io)).toBe(0);
    said.push(enq.out, enq.err);
    expect(enq.err).toMatch(/2 cells enqueued on redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/0/);

    // the shared folder is not mounted here: the worker refuses before taking anything
    renameSync(join(root, 'study'), join(root, 'elsewhere'));
    const blind = capture();
    expect(await runCli(['worker', '--queue', guarded.url], blind.io)).toBe(1);
    said.push(blind.out, blind.err);
    expect(blind.err).toMatch(/cannot see the study folder .*study \(no pw\.study\.json there\)/);
    expect(
      blind.err
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('netaug: error')),
    ).toHaveLength(1);
    renameSync(join(root, 'elsewhere'), join(root, 'study'));

    const w = spawn(process.execPath, [BIN, 'worker', '--name', 'wp'], {
      env: { ...process.env, NETAUG_QUEUE_URL: guarded.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(w);
    w.stderr!.on('data', (d) => said.push(String(d)));
    const done = capture();
    const code = await runCli(['study', f, '--queue', guarded.url, '--json'], done.io);
    said.push(done.out, done.err);
    // on a failure, what the study and the worker said (the password masked: it is checked below otherwise)
    if (code !== 0)
      throw new Error(`netaug study --queue exited ${code}:\n${said.join('\n').split(secret).join('***')}`);
    expect((JSON.parse(done.out) as StudyResults).cells).toHaveLength(2);
    w.kill('SIGTERM');
    await new Promise((r) => w.once('exit', r));
  } finally {
    await guarded.stop();
  }
  expect(said.join('\n')).not.toContain(secret);
  // nor in any file of the study: configs, logs, run folders, reports
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
    );
  const all = files(root);
  expect(all.length).toBeGreaterThan(20);
  for (const file of all) expect(readFileSync(file).includes(secret)).toBe(false);
}, 600_000);

test('--cells with --queue enqueues only the matching cells; enqueuing the whole study later adds the rest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'netaug-queue-cells-'));
  const f = join(root, 'sub.yaml');
  writeFileSync(
    f,
    [
      'name: sub',
      `out: ${join(root, 'study')}`,
      'base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: 200, valSplit: 100, testSubset: 100,',
      '  epochs: 1, batch: 50, bnImages: 100, backend: wasm }',
      'seeds: [0, 1]',
      'arms: { baseline: { config: { strategy: baseline } }, netaug: { config: { strategy: netaug } } }',
      'compare: [{ treatment: netaug, control: baseline }]',
    ].join('\n'),
  );
  // a queue no worker serves: the jobs stay where the study put them
  const on = ['--queue', redis.url, '--queue-name', 'unserved'];
  const status = async () => {
    const c = capture();
    expect(await runCli(['study', f, ...on, '--status', '--json'], c.io)).toBe(0);
    const cells = (JSON.parse(c.out) as { cells: { id: string; status: string }[] }).cells;
    return Object.fromEntries(cells.map((x) => [x.id, x.status]));
  };
  const first = capture();
  expect(await runCli(['study', f, ...on, '--cells', 'netaug-*', '--no-wait'], first.io)).toBe(0);
  expect(first.err).toMatch(/2 cells enqueued on .*, 0 already queued/);
  expect(await status()).toEqual({
    'baseline-s0': 'pending',
    'baseline-s1': 'pending',
    'netaug-s0': 'waiting',
    'netaug-s1': 'waiting',
  });
  const bad = capture();
  expect(await runCli(['study', f, ...on, '--cells', 'nothing-*', '--no-wait'], bad.io)).toBe(1);
  expect(bad.err).toMatch(/--cells: no cell of sub matches 'nothing-\*'/);
  const rest = capture();
  expect(await runCli(['study', f, ...on, '--no-wait'], rest.io)).toBe(0);
  expect(rest.err).toMatch(/2 cells enqueued on .*, 2 already queued/);
  expect(Object.values(await status())).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
  // an operator gives two jobs a priority (BullMQ keeps them apart as 'prioritized'): they still wait, and the
  // status line counts them pending
  const { Queue } = await import('bullmq');
  const bq = new Queue('unserved', {
    connection: { host: '127.0.0.1', port: redis.port },
    prefix: QUEUE_PREFIX,
  });
  try {
    const waiting = await bq.getJobs(['wait']);
    expect(waiting).toHaveLength(4);
    for (const j of waiting.slice(0, 2)) await j.changePriority({ priority: 1 });
    expect(await bq.getJobCounts('prioritized', 'wait')).toEqual({ prioritized: 2, wait: 2 });
  } finally {
    await bq.close();
  }
  expect(Object.values(await status())).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
  const plain = capture();
  expect(await runCli(['study', f, ...on, '--status'], plain.io)).toBe(0);
  expect(plain.out).toMatch(/^0 done, 0 running, 0 interrupted, 4 pending, 0 failed/m);
});
