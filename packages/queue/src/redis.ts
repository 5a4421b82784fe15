import { NetAugError } from '@netaug/core';
import Redis, { type RedisOptions } from 'ioredis';
import { type QueueUrl, scrub, secretOf } from './url';

/** First wait after Redis did not answer. */
export const REDIS_BACKOFF_START_MS = 1000;
/** Longest wait between two tries to reach Redis. */
export const REDIS_BACKOFF_CAP_MS = 30_000;

/** Wait before try `attempt + 1` (attempt counted from 1): 1 s, 2 s, 4 s, … capped at 30 s. */
export function redisBackoffMs(attempt: number): number {
  return Math.min(REDIS_BACKOFF_START_MS * 2 ** Math.max(0, attempt - 1), REDIS_BACKOFF_CAP_MS);
}

/** `1500` → `1.5 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Options of every Redis client of this package (the only place the credentials are read). */
export function redisOptions(q: QueueUrl, extra: RedisOptions = {}): RedisOptions {
  const s = secretOf(q);
  return {
    host: q.host,
    port: q.port,
    db: q.db,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
    ...(q.tls ? { tls: {} } : {}),
    connectTimeout: 10_000,
    // ioredis keeps a timer this long after disconnect() when the socket is already closed: keep it short
    disconnectTimeout: 500,
    // Commands wait while Redis is away instead of failing (BullMQ's workers require it).
    maxRetriesPerRequest: null,
    ...extra,
  };
}

/** A short, credential-free name of what went wrong talking to Redis: its code (`ECONNREFUSED`) or reply. */
export function redisErrorCode(e: unknown): string {
  if (e && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === 'string') {
      const word = /^([A-Z][A-Z_]+)\b/.exec(msg);
      if (word) return word[1];
      if (/timeout|timed out/i.test(msg)) return 'ETIMEDOUT';
      if (/connection is closed/i.test(msg)) return 'ECONNCLOSED';
    }
  }
  return 'unknown error';
}

/** Redis refused the credentials (or wants some): retrying will not help. */
export function isAuthError(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : '';
  return /^(WRONGPASS|NOAUTH)\b/.test(msg) || /^ERR .*\b(AUTH|password)\b/i.test(msg);
}

/** An error about reaching Redis (reported by the client's own reconnect lines, not again). */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  // Node's socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EPIPE, …) and TLS errors
  if (typeof code === 'string' && (/^E[A-Z_]+$/.test(code) || /^ERR_(SSL|TLS)/.test(code))) return true;
  return /connection is closed|connection closed|reached the max retries/i.test(e.message);
}

function authError(q: QueueUrl, e: unknown): NetAugError {
  return new NetAugError(
    'INVALID_CONFIG',
    `redis at ${q.redacted} refused the credentials (${redisErrorCode(e)})`,
    {
      hint: 'check the user name and password of the queue URL and the requirepass / ACL of the Redis server',
    },
  );
}

/**
 * A client for BullMQ that reconnects forever with the backoff of {@link redisBackoffMs} and reports the
 * outage: `redis at <redacted> is not reachable (ECONNREFUSED); retrying in 2 s`, then `… is reachable again`.
 */
export function createRedisClient(q: QueueUrl, report: (line: string) => void): Redis {
  // the reason shown when the socket closed without an error (Redis shut down cleanly)
  let lastCode = 'connection lost';
  let down = false;
  let authReported = false;
  const client = new Redis(redisOptions(q, { retryStrategy: (times: number) => redisBackoffMs(times) }));
  client.on('error', (e: unknown) => {
    lastCode = redisErrorCode(e);
    if (isAuthError(e) && !authReported) {
      authReported = true;
      report(scrub(authError(q, e).message, q));
    }
  });
  client.on('reconnecting', (delay: unknown) => {
    down = true;
    const ms = typeof delay === 'number' ? delay : 0;
    report(
      scrub(`redis at ${q.redacted} is not reachable (${lastCode}); retrying in ${formatSeconds(ms)}`, q),
    );
  });
  client.on('ready', () => {
    if (down) report(scrub(`redis at ${q.redacted} is reachable again`, q));
    down = false;
    lastCode = 'connection lost';
    authReported = false;
  });
  return client;
}

/** One try: connect, PING, disconnect. */
async function pingOnce(
  q: QueueUrl,
  connectTimeoutMs: number,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const client = new Redis(
    redisOptions(q, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: connectTimeoutMs,
      disconnectTimeout: 50,
    }),
  );
  let lastError: unknown;
  client.on('error', (e: unknown) => {
    lastError = e;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') return { ok: false, error: new Error(`unexpected reply to PING`) };
    return { ok: true };
  } catch (e) {
    // the client's own error (ECONNREFUSED, WRONGPASS) says more than the rejection ("Connection is closed")
    return { ok: false, error: lastError ?? e };
  } finally {
    client.disconnect();
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts (the timer is cleared either way). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface WaitForRedisOptions {
  /** Called before each wait: `redis at <redacted> is not reachable (ECONNREFUSED); retrying in 2 s`. */
  onWait?: (message: string) => void;
  /** Give up after this long (ms): rejects with `NetAugError` `IO`. Default: wait forever. */
  maxWaitMs?: number;
  /** Stops waiting: rejects with `NetAugError` `IO`. */
  signal?: AbortSignal;
  /** Timeout of one connection try (ms, default 10 000). */
  connectTimeoutMs?: number;
}

/**
 * Resolves when Redis answers PING. While it does not, calls `onWait` and tries again after 1 s, 2 s, 4 s, …
 * (at most 30 s apart). Rejects with `NetAugError` `IO` after `maxWaitMs` (or on `signal`), and at once with
 * `INVALID_CONFIG` when Redis refuses the credentials.
 */
export async function waitForRedis(q: QueueUrl, options: WaitForRedisOptions = {}): Promise<void> {
  secretOf(q);
  const { onWait, maxWaitMs, signal, connectTimeoutMs = 10_000 } = options;
  if (maxWaitMs !== undefined && !(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) {
    throw new NetAugError('INVALID_ARGUMENT', `maxWaitMs must be a number ≥ 0, got ${String(maxWaitMs)}`);
  }
  const cancelled = () =>
    new NetAugError('IO', `stopped waiting for redis at ${q.redacted}`, { hint: 'the wait was cancelled' });
  const start = Date.now();
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw cancelled();
    const r = await pingOnce(q, connectTimeoutMs);
    if (r.ok) return;
    if (isAuthError(r.error)) throw authError(q, r.error);
    const code = redisErrorCode(r.error);
    const elapsed = Date.now() - start;
    let delay = redisBackoffMs(attempt);
    if (maxWaitMs !== undefined) {
      const left = maxWaitMs - elapsed;
      if (left <= 0) {
        throw new NetAugError(
          'IO',
          `redis at ${q.redacted} is not reachable (${code}); gave up after ${formatSeconds(elapsed)}`,
          { hint: 'start Redis (redis-server --appendonly yes …) or check the queue URL and the network' },
        );
      }
      delay = Math.min(delay, left);
    }
    try {
      onWait?.(
        scrub(`redis at ${q.redacted} is not reachable (${code}); retrying in ${formatSeconds(delay)}`, q),
      );
    } catch {
      // a failing reporter does not stop the wait
    }
    try {
      await sleep(delay, signal);
    } catch {
      throw cancelled();
    }
  }
}
