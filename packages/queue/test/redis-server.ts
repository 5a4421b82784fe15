/** Test helper: a real redis-server on 127.0.0.1, a free port, a temp dir; stopped and removed afterwards. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian package's binary (CI installs `redis-server`); `REDIS_SERVER` overrides it. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface RedisServer {
  port: number;
  /** `redis://[:password@]127.0.0.1:<port>/0` */
  url: string;
  /** Stops the server (SIGTERM, it writes its append-only file), keeping its data folder. */
  down(): Promise<void>;
  /** Starts it again on the same port and data folder (the jobs come back from the append-only file). */
  up(): Promise<void>;
  /** Stops it and removes its data folder. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something on the port answers a PING (any RESP reply, `-NOAUTH` included). */
function pingRaw(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (b) => done(/^[+-]/.test(b.toString())));
  });
}

export async function startRedis(options: { port?: number; password?: string } = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `redis-server not found at ${REDIS_SERVER}: the @netaug/queue tests need a real Redis — install the ` +
        `Debian package (apt-get install redis-server) or set REDIS_SERVER to its path`,
    );
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'netaug-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--save', '',
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ]; // prettier-ignore
  if (options.password !== undefined) args.push('--requirepass', options.password);

  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const down = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    proc = undefined;
  };
  const up = async () => {
    const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    let stderr = '';
    p.stderr?.on('data', (b) => (stderr += b.toString()));
    exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await pingRaw(port))) {
      if (p.exitCode !== null || Date.now() > deadline) {
        await down();
        throw new Error(`redis-server did not start on port ${port}: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    await down();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await up();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const auth = options.password !== undefined ? `:${encodeURIComponent(options.password)}@` : '';
  return { port, url: `redis://${auth}127.0.0.1:${port}/0`, down, up, stop };
}
