import { isNetAugError } from '@netaug/core';
import Redis from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  type CellInput,
  type CellStatus,
  type QueueUrl,
  PermanentError,
  RetryableError,
  enqueueCells,
  parseQueueUrl,
  queueStatus,
  startWorker,
  waitForRedis,
} from '../src';
import { type RedisServer, freePort, startRedis } from './redis-server';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cells(study: string, n: number): CellInput[] {
  return Array.from({ length: n }, (_, i) => ({
    cellId: `c${i}`,
    hash: sha(`${study}/${i}`),
    runDir: `/shared/runs/${study}/c${i}`,
    config: { seed: i, lr: 0.1 },
  }));
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The study's status once every job is in one of `states`. */
function settled(q: QueueUrl, study: string, n: number, states = ['completed', 'failed']) {
  return until(`${n} jobs of ${study} to settle`, async () => {
    const st = await queueStatus(q, study);
    return st.length === n && st.every((s) => states.includes(s.state)) ? st : undefined;
  });
}

const byId = (st: CellStatus[]) => Object.fromEntries(st.map((s) => [s.cellId, s]));

function expectNetAugError(f: () => unknown, code: string, text: RegExp): NetAugErrorLike {
  try {
    f();
  } catch (e) {
    expect(isNetAugError(e)).toBe(true);
    expect((e as NetAugErrorLike).code).toBe(code);
    expect((e as Error).message).toMatch(text);
    return e as NetAugErrorLike;
  }
  throw new Error('expected a NetAugError');
}
type NetAugErrorLike = Error & { code: string };

describe('parseQueueUrl', () => {
  it('reads redis:// and rediss:// URLs, credentials hidden', () => {
    const a = parseQueueUrl('redis://:secret@10.0.0.5:6379/0');
    expect(a).toMatchObject({ scheme: 'redis', host: '10.0.0.5', port: 6379, db: 0, tls: false });
    expect(a.hasCredentials).toBe(true);
    expect(a.redacted).toBe('redis://***@10.0.0.5:6379/0');

    const b = parseQueueUrl('rediss://alice:p%40ss%2Fword@redis.example.org:6380/2');
    expect(b).toMatchObject({ scheme: 'rediss', host: 'redis.example.org', port: 6380, db: 2, tls: true });
    expect(b.redacted).toBe('rediss://***@redis.example.org:6380/2');

    const c = parseQueueUrl('redis://localhost');
    expect(c).toMatchObject({ host: 'localhost', port: 6379, db: 0, hasCredentials: false });
    expect(c.redacted).toBe('redis://localhost:6379/0');

    expect(parseQueueUrl('redis://[::1]:7000/5').redacted).toBe('redis://[::1]:7000/5');
    expect(parseQueueUrl('redis://[::1]:7000/5').host).toBe('::1');

    for (const [q, pw] of [
      [a, 'secret'],
      [b, 'p@ss/word'],
    ] as const) {
      for (const shown of [
        q.redacted,
        String(q),
        JSON.stringify(q),
        inspect(q, { showHidden: true, depth: 5 }),
      ]) {
        expect(shown).not.toContain(pw);
        expect(shown).not.toContain(encodeURIComponent(pw));
      }
      expect(Object.values(q).join(' ')).not.toContain(pw);
    }
  });

  it('rejects bad URLs with INVALID_CONFIG naming the problem, never the password', () => {
    const cases: [string, RegExp][] = [
      ['http://:hunter22@host:6379/0', /scheme 'http' is not supported/],
      ['redis://:hunter22@host:6379/abc', /database index 'abc' is not an integer/],
      ['redis://:hunter22@host:99999/0', /not a valid URL|out of range/],
      ['not a url :hunter22@', /not a valid URL/],
      ['redis://:hunter22@host:6379/0?password=x', /query parameters/],
      ['', /is empty/],
    ];
    for (const [url, problem] of cases) {
      const e = expectNetAugError(() => parseQueueUrl(url), 'INVALID_CONFIG', problem);
      expect(e.message).not.toContain('hunter22');
      expect(String(e.stack)).not.toContain('hunter22');
    }
  });
});

describe('queue on a real redis-server', () => {
  let redis: RedisServer;
  let q: QueueUrl;
  beforeAll(async () => {
    redis = await startRedis();
    q = parseQueueUrl(redis.url);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('enqueues idempotently: job id = hash, a second enqueue adds nothing, isDone skips', async () => {
    const study = 'enqueue';
    const cs = cells(study, 4);
    const first = await enqueueCells(q, study, cs);
    expect(first).toEqual({ added: ['c0', 'c1', 'c2', 'c3'], retried: [], existing: [], skippedDone: [] });
    const again = await enqueueCells(q, study, cs, { isDone: () => true });
    expect(again).toEqual({ added: [], retried: [], existing: ['c0', 'c1', 'c2', 'c3'], skippedDone: [] });

    const extra = cells(study, 6).slice(4); // c4 finished on storage, c5 not
    const third = await enqueueCells(q, study, extra, { isDone: (c) => c.cellId === 'c4' });
    expect(third).toEqual({ added: ['c5'], retried: [], existing: [], skippedDone: ['c4'] });

    const st = await queueStatus(q, study);
    expect(st.map((s) => s.cellId).sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c5']);
    for (const s of st) {
      expect(s.hash).toBe(sha(`${study}/${s.cellId.slice(1)}`));
      expect(s.state).toBe('waiting');
      expect(s.attemptsMade).toBe(0);
    }

    await expect(enqueueCells(q, study, [{ ...cs[0], hash: 'abc' }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cells\[0\] \(c0\): hash must be the canonical config hash/),
    });
    await expect(enqueueCells(q, study, [cs[0], { ...cs[1], hash: cs[0].hash }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/'c0' and 'c1' have the same hash/),
    });
    await expect(enqueueCells(q, 'a:b', cs)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a worker runs 4 cells one at a time; status shows completed, worker, progress', async () => {
    const study = 'run4';
    await enqueueCells(q, study, cells(study, 4));
    let running = 0;
    let maxRunning = 0;
    const seen: string[] = [];
    const lines: string[] = [];
    const w = startWorker(
      q,
      study,
      async (cell, ctx) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        expect(Object.keys(cell).sort()).toEqual(['cellId', 'config', 'hash', 'runDir', 'study']);
        expect(cell.config).toEqual({ seed: Number(cell.cellId.slice(1)), lr: 0.1 });
        expect(ctx.attempt).toBe(1);
        expect(ctx.attempts).toBe(3);
        await ctx.progress({ epoch: 1, epochs: 2 });
        await sleep(30);
        await ctx.progress({ epoch: 2, epochs: 2 });
        seen.push(cell.cellId);
        running--;
      },
      { concurrency: 1, name: 'w-run4', onEvent: (l) => lines.push(l) },
    );
    try {
      await w.ready();
      const st = await settled(q, study, 4);
      expect(seen.sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
      expect(maxRunning).toBe(1);
      for (const s of st) {
        expect(s).toMatchObject({ state: 'completed', worker: 'w-run4', progress: { epoch: 2, epochs: 2 } });
        expect(s.attemptsMade).toBe(1);
        expect(s.stalledCount).toBe(0);
        expect(s.startedAt).toBeLessThanOrEqual(s.finishedAt!);
      }
      expect(lines.filter((l) => /^run4\/c\d started on w-run4 \(try 1 of 3\)$/.test(l))).toHaveLength(4);
      expect(lines.filter((l) => /^run4\/c\d completed on w-run4 in /.test(l))).toHaveLength(4);
    } finally {
      await w.close();
    }
  });

  it('PermanentError fails at once; a flaky cell is retried; failed cells are re-enqueued on request', async () => {
    const study = 'fail';
    const [perm, flaky, broken] = cells(study, 3);
    await enqueueCells(q, study, [perm, flaky, broken], { attempts: 3, backoffMs: 100 });
    const tries: Record<string, number> = {};
    const lines: string[] = [];
    const w = startWorker(
      q,
      study,
      async (cell) => {
        tries[cell.cellId] = (tries[cell.cellId] ?? 0) + 1;
        if (cell.cellId === 'c0') throw new PermanentError('lr must be positive, got -1');
        if (cell.cellId === 'c1' && tries.c1 === 1) throw new RetryableError('shared disk not mounted yet');
        if (cell.cellId === 'c2') throw new Error('loss is NaN at epoch 3');
      },
      { name: 'w-fail', onEvent: (l) => lines.push(l) },
    );
    try {
      const st = byId(await settled(q, study, 3));
      expect(st.c0).toMatchObject({
        state: 'failed',
        attemptsMade: 1,
        failedReason: 'lr must be positive, got -1',
      });
      expect(st.c1).toMatchObject({ state: 'completed', attemptsMade: 2 });
      expect(st.c1.failedReason).toBeUndefined();
      expect(st.c2).toMatchObject({
        state: 'failed',
        attemptsMade: 3,
        failedReason: 'loss is NaN at epoch 3',
      });
      expect(tries).toEqual({ c0: 1, c1: 2, c2: 3 });
      expect(lines).toContain(
        'fail/c1 failed on w-fail (try 1 of 3): shared disk not mounted yet; retrying in 0.1 s',
      );
      expect(lines).toContain('fail/c0 failed on w-fail after 1 of 3 tries: lr must be positive, got -1');

      expect(await enqueueCells(q, study, [perm, flaky, broken])).toMatchObject({
        existing: ['c0', 'c1', 'c2'],
      });
      // c2 is fixed (and c0 finished elsewhere meanwhile): retry the failed ones
      await w.close();
      const again = await enqueueCells(q, study, [perm, flaky, broken], {
        retryFailed: true,
        isDone: (c) => c.cellId === 'c0',
      });
      expect(again).toEqual({ added: [], retried: ['c2'], existing: ['c1'], skippedDone: ['c0'] });
      const c2 = byId(await queueStatus(q, study)).c2;
      expect(c2).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    } finally {
      await w.close();
    }
  });

  it('close({ abort: true }) aborts the handler and puts its job back, no try counted', async () => {
    const study = 'abort';
    await enqueueCells(q, study, cells(study, 1));
    let started = false;
    const w1 = startWorker(
      q,
      study,
      (_cell, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () =>
            reject(new Error(`aborted: ${String(ctx.signal.reason)}`)),
          );
        }),
      { name: 'w-abort-1' },
    );
    await until('the handler to start', async () => (started ? true : undefined));
    await w1.close({ abort: true });
    const st = (await queueStatus(q, study))[0];
    expect(st).toMatchObject({ state: 'waiting', attemptsMade: 0, stalledCount: 0, worker: 'w-abort-1' });

    const w2 = startWorker(q, study, async () => undefined, { name: 'w-abort-2' });
    try {
      const done = (await settled(q, study, 1))[0];
      expect(done).toMatchObject({
        state: 'completed',
        attemptsMade: 1,
        stalledCount: 0,
        worker: 'w-abort-2',
      });
    } finally {
      await w2.close();
    }
  });

  it('a worker that lost its lock (taken for stalled) aborts its handler', async () => {
    const study = 'lock';
    const [cell] = cells(study, 1);
    await enqueueCells(q, study, [cell]);
    const lines: string[] = [];
    let reason: unknown;
    let started = false;
    const w = startWorker(
      q,
      study,
      (_cell, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(new Error('stopped'));
          });
        }),
      { name: 'w-lock', lockDuration: 2000, stalledInterval: 60_000, onEvent: (l) => lines.push(l) },
    );
    const raw = new Redis(redis.port, '127.0.0.1');
    try {
      await until('the handler to start', async () => (started ? true : undefined));
      // what a stall check on another machine does to a job whose lock expired: the lock is gone
      expect(await raw.del(`netaug:${study}:${cell.hash}:lock`)).toBe(1);
      await until('the handler to be aborted', async () => (reason !== undefined ? true : undefined), 5000);
      expect(reason).toBe('lost the job lock');
      expect(lines).toContain(
        `w-lock lost the lock of job ${cell.hash}: another worker may take it over; aborting its handler`,
      );
    } finally {
      raw.disconnect();
      await w.close();
    }
  });

  describe('lost workers (SIGKILL) are replaced by stalled-job detection', () => {
    const lockDuration = 2000;
    const stalledInterval = 1000;
    let dir: string;
    const children: ChildProcess[] = [];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'netaug-queue-'));
    });
    afterAll(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    /** A worker in a child process whose handler writes `<name>.started` and then waits until killed. */
    async function childWorker(study: string, name: string): Promise<ChildProcess> {
      const child = spawn(
        process.execPath,
        [
          join(__dirname, 'worker-child.js'),
          redis.url,
          study,
          name,
          dir,
          `${lockDuration}`,
          `${stalledInterval}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr?.on('data', (b) => (err += b.toString()));
      children.push(child);
      await until(`child worker ${name} to be ready (${err})`, async () => {
        if (child.exitCode !== null) throw new Error(`child worker ${name} exited: ${err}`);
        return existsSync(join(dir, `${name}.ready`)) ? true : undefined;
      });
      return child;
    }
    const startedFile = (name: string) => join(dir, `${name}.started`);
    const hasStarted = (name: string) =>
      until(`${name} to start the cell`, async () =>
        existsSync(startedFile(name)) ? Date.now() : undefined,
      );
    async function kill(child: ChildProcess): Promise<number> {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      return Date.now();
    }
    function inProcessWorker(study: string, name: string, onStart: () => void) {
      return startWorker(
        q,
        study,
        async () => {
          onStart();
          await sleep(50);
        },
        { name, lockDuration, stalledInterval },
      );
    }

    it('one lost worker: another worker takes the job over and completes it', async () => {
      const study = 'lost1';
      const [cell] = cells(study, 1);
      const a = await childWorker(study, 'lost1-a');
      await enqueueCells(q, study, [cell]);
      await hasStarted('lost1-a');
      expect(readFileSync(startedFile('lost1-a'), 'utf8')).toBe(cell.hash);
      expect((await queueStatus(q, study))[0]).toMatchObject({ state: 'active', worker: 'lost1-a' });

      let takenAt = 0;
      const b = inProcessWorker(study, 'lost1-b', () => (takenAt = Date.now()));
      try {
        await b.ready();
        const killedAt = await kill(a);
        const st = (await settled(q, study, 1))[0];
        const takeover = takenAt - killedAt;
        console.log(
          `takeover after one lost worker: ${takeover} ms (lock ${lockDuration}, check ${stalledInterval})`,
        );
        expect(st).toMatchObject({ state: 'completed', worker: 'lost1-b', attemptsMade: 1, stalledCount: 1 });
        expect(st.attemptsStarted).toBe(2);
        expect(takeover).toBeGreaterThan(0);
        expect(takeover).toBeLessThan(lockDuration + 2 * stalledInterval + 1500);
      } finally {
        await b.close();
      }
    });

    it('two lost workers in a row: the job still completes (maxStalledCount 2)', async () => {
      const study = 'lost2';
      const [cell] = cells(study, 1);
      const a1 = await childWorker(study, 'lost2-a1');
      await enqueueCells(q, study, [cell]);
      await hasStarted('lost2-a1');
      const a2 = await childWorker(study, 'lost2-a2'); // idle until a1's job is handed on
      const killed1 = await kill(a1);
      const taken1 = await hasStarted('lost2-a2');
      expect((await queueStatus(q, study))[0]).toMatchObject({
        state: 'active',
        worker: 'lost2-a2',
        stalledCount: 1,
      });

      let taken2 = 0;
      const b = inProcessWorker(study, 'lost2-b', () => (taken2 = Date.now()));
      try {
        await b.ready();
        const killed2 = await kill(a2);
        const st = (await settled(q, study, 1))[0];
        console.log(`takeovers after two lost workers: ${taken1 - killed1} ms, ${taken2 - killed2} ms`);
        expect(st).toMatchObject({ state: 'completed', worker: 'lost2-b', attemptsMade: 1, stalledCount: 2 });
        expect(st.attemptsStarted).toBe(3);
        for (const t of [taken1 - killed1, taken2 - killed2]) {
          expect(t).toBeLessThan(lockDuration + 2 * stalledInterval + 1500);
        }
      } finally {
        await b.close();
      }
    });
  });
});

describe('Redis down', () => {
  it('waitForRedis retries with backoff, gives up after maxWaitMs, and resolves once Redis is up', async () => {
    const port = await freePort();
    const q = parseQueueUrl(`redis://:down-pass-123@127.0.0.1:${port}/0`);
    const waits: string[] = [];
    const t0 = Date.now();
    // 4 s: room for the first two backoff delays (1 s, 2 s) uncapped even on a loaded machine; the third (4 s)
    // is cut to the time left
    const err = await waitForRedis(q, { onWait: (m) => waits.push(m), maxWaitMs: 4000 }).catch((e) => e);
    const took = Date.now() - t0;
    expect(isNetAugError(err)).toBe(true);
    expect(err.code).toBe('IO');
    expect(err.message).toMatch(
      /^redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/0 is not reachable \(ECONNREFUSED\)/,
    );
    expect(took).toBeGreaterThanOrEqual(4000);
    // gives up at maxWaitMs: at most one connection attempt (its timeout) later, however loaded the machine
    expect(took).toBeLessThan(9000);
    expect(waits.slice(0, 2)).toEqual([
      `redis at ${q.redacted} is not reachable (ECONNREFUSED); retrying in 1 s`,
      `redis at ${q.redacted} is not reachable (ECONNREFUSED); retrying in 2 s`,
    ]);
    // the last wait ends at maxWaitMs, not at the backoff's 4 s
    expect(waits).toHaveLength(3);
    expect(Number(/retrying in ([\d.]+) s$/.exec(waits[2])![1])).toBeLessThan(1.1);
    for (const w of [...waits, err.message]) expect(w).not.toContain('down-pass-123');

    const later: string[] = [];
    const t1 = Date.now();
    const waiting = waitForRedis(q, { onWait: (m) => later.push(m) });
    await sleep(1500);
    const redis = await startRedis({ port, password: 'down-pass-123' });
    try {
      await waiting;
      const waited = Date.now() - t1;
      expect(later.length).toBeGreaterThanOrEqual(2); // tried at 0 s and 1 s, answered at 3 s
      expect(later[1]).toBe(`redis at ${q.redacted} is not reachable (ECONNREFUSED); retrying in 2 s`);
      expect(waited).toBeGreaterThanOrEqual(2900);
      expect(waited).toBeLessThan(6000);
    } finally {
      await redis.stop();
    }
  });
});

describe('no credentials leak', () => {
  it('a password never shows in lines, errors, job data, status or Redis', async () => {
    const password = 'Leak/Test pw@#42';
    const redis = await startRedis({ password });
    const q = parseQueueUrl(redis.url);
    expect(redis.url).toContain(encodeURIComponent(password));
    const shown: string[] = [];
    const say = (l: string) => shown.push(l);
    const study = 'leak';
    const w = startWorker(
      q,
      study,
      async (cell, ctx) => {
        await ctx.progress({ epoch: 1, epochs: 1 });
        if (cell.cellId === 'c1') throw new PermanentError(`could not reach redis://:${password}@somewhere`);
      },
      { name: 'w-leak', onEvent: say },
    );
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, password, lazyConnect: true });
    try {
      await w.ready();
      const [c0, c1] = cells(study, 2);
      shown.push(JSON.stringify(await enqueueCells(q, study, [c0, c1], { onWait: say })));
      const st = await settled(q, study, 2);
      expect(byId(st).c1.failedReason).toBe('could not reach redis://:***@somewhere');

      // config holding the password is refused before it reaches Redis
      const leaky = { ...cells(study, 3)[2], config: { note: `url redis://:${password}@x` } };
      const refused = await enqueueCells(q, study, [leaky]).catch((e) => e);
      expect(refused.code).toBe('INVALID_ARGUMENT');
      shown.push(refused.message);

      // Redis restarts under the running worker: told, and nothing is lost (append-only file)
      await redis.down();
      await sleep(1500);
      await redis.up();
      const c2 = cells(study, 3)[2];
      await until('the worker to reconnect', async () =>
        shown.some((l) => l.endsWith('is reachable again')) ? true : undefined,
      );
      await enqueueCells(q, study, [c2], { onWait: say });
      const after = await settled(q, study, 3);
      expect(byId(after).c0.state).toBe('completed');
      expect(byId(after).c2.state).toBe('completed');
      expect(shown).toContain(`redis at ${q.redacted} is reachable again`);
      expect(shown.some((l) => l.startsWith(`redis at ${q.redacted} is not reachable (`))).toBe(true);

      // wrong password: refused, neither password shown
      const wrong = parseQueueUrl(`redis://:${encodeURIComponent('Wrong pw!77')}@127.0.0.1:${redis.port}/0`);
      const e = await waitForRedis(wrong).catch((x) => x);
      expect(e.code).toBe('INVALID_CONFIG');
      shown.push(e.message, String(e.stack));

      shown.push(JSON.stringify(after), inspect(q, { showHidden: true, depth: 5 }), JSON.stringify(q));
      // everything stored in Redis
      await raw.connect();
      for (const key of await raw.keys('*')) {
        const type = await raw.type(key);
        const v =
          type === 'hash'
            ? await raw.hgetall(key)
            : type === 'list'
              ? await raw.lrange(key, 0, -1)
              : type === 'set'
                ? await raw.smembers(key)
                : type === 'zset'
                  ? await raw.zrange(key, 0, -1)
                  : type === 'stream'
                    ? await raw.xrange(key, '-', '+')
                    : await raw.get(key);
        shown.push(`${key} ${JSON.stringify(v)}`);
      }
      const all = shown.join('\n');
      expect(all).toContain('leak/c0 completed on w-leak');
      expect(all).toContain('"cellId":"c0"');
      for (const secret of [
        password,
        encodeURIComponent(password),
        'Wrong pw!77',
        encodeURIComponent('Wrong pw!77'),
      ]) {
        expect(all).not.toContain(secret);
      }
    } finally {
      raw.disconnect();
      await w.close();
      await redis.stop();
    }
  });
});
