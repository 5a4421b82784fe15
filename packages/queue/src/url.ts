import { NetAugError } from '@netaug/core';

/** Port Redis listens on when the URL names none. */
export const DEFAULT_REDIS_PORT = 6379;

const FORMAT_HINT = 'write redis://[[user]:password@]host[:port][/db] or rediss://… for TLS';

/** What only this module may read: the credentials of a parsed queue URL (never a property of it). */
interface Secret {
  username?: string;
  password?: string;
}
const secrets = new WeakMap<QueueUrl, Secret>();

/**
 * Where the queue lives: a parsed `redis://` or `rediss://` URL. The credentials are held outside the object
 * (not a property, not in `JSON.stringify`, `util.inspect` or `toString()`): only `redacted` is ever shown.
 * Made by {@link parseQueueUrl}; the other functions of this package accept nothing else.
 */
export class QueueUrl {
  /** `rediss` connects with TLS. */
  readonly scheme: 'redis' | 'rediss';
  readonly host: string;
  readonly port: number;
  /** Redis database index. */
  readonly db: number;
  readonly tls: boolean;
  /** True when the URL carries a password (or user name); the values themselves are not readable. */
  readonly hasCredentials: boolean;
  /** The URL to show: `redis://***@host:port/db` (credentials replaced), or `redis://host:port/db`. */
  readonly redacted: string;

  /** @internal use {@link parseQueueUrl} */
  constructor(
    parts: { scheme: 'redis' | 'rediss'; host: string; port: number; db: number },
    secret: Secret = {},
  ) {
    this.scheme = parts.scheme;
    this.host = parts.host;
    this.port = parts.port;
    this.db = parts.db;
    this.tls = parts.scheme === 'rediss';
    this.hasCredentials = secret.password !== undefined || secret.username !== undefined;
    const hostPart = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.redacted = `${this.scheme}://${this.hasCredentials ? '***@' : ''}${hostPart}:${this.port}/${this.db}`;
    secrets.set(this, { ...secret });
    Object.freeze(this);
  }

  toString(): string {
    return this.redacted;
  }

  toJSON(): string {
    return this.redacted;
  }
}

function invalid(problem: string): NetAugError {
  // The message names the problem and never echoes the URL: it may hold a password.
  return new NetAugError('INVALID_CONFIG', `queue URL: ${problem}`, { hint: FORMAT_HINT });
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`the ${what} is not valid percent-encoding`);
  }
}

/**
 * Parses a queue URL: `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). Port 6379 and db 0
 * by default. Throws `NetAugError` `INVALID_CONFIG` naming the problem (never the URL's credentials).
 */
export function parseQueueUrl(url: string): QueueUrl {
  if (typeof url !== 'string' || url.trim() === '') throw invalid('is empty');
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    // Node's error carries the input (`input`), so it is not attached as the cause.
    throw invalid('is not a valid URL');
  }
  const protocol = u.protocol.toLowerCase();
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw invalid(`scheme '${protocol.replace(/:$/, '')}' is not supported (only redis and rediss)`);
  }
  const scheme = protocol === 'rediss:' ? 'rediss' : 'redis';
  let host = u.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw invalid('names no host');
  let port = DEFAULT_REDIS_PORT;
  if (u.port !== '') {
    port = Number(u.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`port ${u.port} is out of range`);
  }
  let db = 0;
  const path = u.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if (path !== '') {
    if (!/^\d{1,5}$/.test(path)) throw invalid(`database index '${decode(path, 'path')}' is not an integer`);
    db = Number(path);
  }
  if (u.search !== '' || u.hash !== '') {
    throw invalid('query parameters and fragments are not supported');
  }
  const secret: Secret = {};
  if (u.username !== '') secret.username = decode(u.username, 'user name');
  if (u.password !== '') secret.password = decode(u.password, 'password');
  return new QueueUrl({ scheme, host, port, db }, secret);
}

/** The credentials of a parsed URL (for the Redis client only). */
export function secretOf(q: QueueUrl): Secret {
  const s = q instanceof QueueUrl ? secrets.get(q) : undefined;
  if (!s) {
    throw new NetAugError('INVALID_ARGUMENT', 'the queue must be a QueueUrl', {
      hint: 'make it with parseQueueUrl(url)',
    });
  }
  return s;
}

/** `text` with the queue's password (also percent-encoded) replaced by `***`: every line this package shows. */
export function scrub(text: string, q: QueueUrl): string {
  const p = secrets.get(q)?.password;
  if (!p) return text;
  let out = text;
  for (const form of new Set([p, encodeURIComponent(p)])) out = out.split(form).join('***');
  return out;
}

/**
 * True when `text` contains the queue's password (checked on job data before it is written to Redis). Passwords
 * shorter than 6 characters are not looked for: they would match ordinary text.
 */
export function containsPassword(text: string, q: QueueUrl): boolean {
  const p = secrets.get(q)?.password;
  return !!p && p.length >= 6 && (text.includes(p) || text.includes(encodeURIComponent(p)));
}
