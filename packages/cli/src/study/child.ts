import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '@netaug/core/node';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NetAugError, type NetAugErrorCode } from '@netaug/core';
import type { RunConfig } from '../run/run-config';

/** The `netaug` entry point of this installation (children run `node <bin> train …`). */
export function cliBin(): string {
  const req = createRequire(typeof __filename !== 'undefined' ? __filename : join(process.cwd(), 'x.js'));
  return join(dirname(req.resolve('@netaug/cli/package.json')), 'dist', 'bin.js');
}

/** Env var a child reads: it ends itself when this pid is no longer its parent (its parent died). */
export const PARENT_ENV = 'NETAUG_PARENT_PID';

/**
 * In a process started with {@link PARENT_ENV}: checks every 500 ms that the parent still lives and, when it
 * does not (a worker killed with SIGKILL, a lost machine), kills this process too, so that no orphan keeps
 * training a run folder that another worker now resumes (its last checkpoint is whole: writes are atomic).
 * The check runs in a worker thread: a training epoch can keep the main event loop busy for minutes.
 */
export function exitWithParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const watchdog = new Worker(
    `setInterval(() => { if (process.ppid !== ${parent}) process.kill(process.pid, 'SIGKILL'); }, 500);`,
    { eval: true },
  );
  watchdog.unref();
}

/** Error codes of a training process that no retry can fix (the config or the data is wrong). */
const PERMANENT: NetAugErrorCode[] = [
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'UNKNOWN_MODEL',
  'UNKNOWN_PRESET',
  'SHAPE_MISMATCH',
  'DATA_FORMAT',
  'DATA_NOT_FOUND',
  'NUMERIC',
  'UNSUPPORTED_OP',
  'MISSING_DEPENDENCY',
];

/** Why a training process failed: its typed error, and whether running it again could help. */
export class ChildFailure extends NetAugError {
  constructor(
    code: NetAugErrorCode,
    message: string,
    /** False for a bad config or data and a diverged run; true for a killed process, an I/O or folder problem. */
    readonly retryable: boolean,
  ) {
    super(code, message);
  }
}

/** A cell as a child process trains it. */
export interface ChildCell {
  id: string;
  hash: string;
  runDir: string;
  config: RunConfig;
}

/**
 * Trains a cell in a child process (`netaug train --config <runDir>/cell.json --resume --expect-hash <hash>`),
 * its output appended to `<runDir>/train.log`. Resolves when the run is finished; rejects with a
 * {@link ChildFailure}. `signal` kills the child; `onEpoch` is told the completed epochs every few seconds.
 */
export function trainInChild(
  c: ChildCell,
  o: {
    signal?: AbortSignal;
    onEpoch?: (epoch: number, epochs: number) => void;
    threads?: number | null;
  } = {},
): Promise<void> {
  mkdirSync(c.runDir, { recursive: true });
  const cfgFile = join(c.runDir, 'cell.json');
  writeFileAtomicSync(cfgFile, JSON.stringify(c.config, null, 2) + '\n');
  const logFile = join(c.runDir, 'train.log');
  const fd = openSync(logFile, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cliBin(), 'train', '--config', cfgFile, '--resume', '--plain', '--expect-hash', c.hash],
      {
        stdio: ['ignore', fd, fd],
        env: {
          ...process.env,
          [PARENT_ENV]: String(process.pid),
          ...(o.threads ? { NETAUG_THREADS: String(o.threads) } : {}),
        },
      },
    );
    const metrics = join(c.runDir, 'metrics.jsonl');
    let last = -1;
    const poll = o.onEpoch
      ? setInterval(() => {
          const n = existsSync(metrics)
            ? readFileSync(metrics, 'utf8')
                .split('\n')
                .filter((l) => l).length
            : 0;
          if (n !== last) o.onEpoch!((last = n), c.config.epochs);
        }, 5000)
      : undefined;
    const onAbort = () => child.kill('SIGKILL');
    o.signal?.addEventListener('abort', onAbort);
    const done = () => {
      if (poll) clearInterval(poll);
      o.signal?.removeEventListener('abort', onAbort);
      closeSync(fd);
    };
    child.on('error', (e) => {
      done();
      reject(new ChildFailure('INTERNAL', `cannot start the training process: ${e.message}`, true));
    });
    child.on('exit', (code, signal) => {
      done();
      if (code === 0) return resolve();
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
      const m = /^netaug: error \[([A-Z_]+)\]: (.*)$/.exec(tail);
      if (m) {
        const code = m[1] as NetAugErrorCode;
        return reject(new ChildFailure(code, m[2], !PERMANENT.includes(code)));
      }
      reject(
        new ChildFailure(
          'INTERNAL',
          `training process ${signal ? `killed by ${signal}` : `exited with ${code}`}: ${tail} (see ${logFile})`,
          true,
        ),
      );
    });
  });
}
