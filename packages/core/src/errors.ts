/**
 * Error codes used across NetAug.js. Every error a user can cause carries one of these codes,
 * a message that names what was wrong, and a hint that says what to do instead.
 */
export type NetAugErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_MODEL'
  | 'UNKNOWN_PRESET'
  | 'SHAPE_MISMATCH'
  | 'INVALID_CONFIG'
  | 'DATA_FORMAT'
  | 'DATA_NOT_FOUND'
  | 'IO'
  | 'BACKEND_UNAVAILABLE'
  /** An optional package a feature needs is not installed (the hint is the install command). */
  | 'MISSING_DEPENDENCY'
  | 'UNSUPPORTED_OP'
  | 'NUMERIC'
  | 'CHECKPOINT'
  /** A run folder is held by another process or holds another run. */
  | 'RUN_FOLDER'
  | 'INTERNAL';

/** The one error class of NetAug.js: `code` is stable and machine-readable, `hint` says how to fix it. */
export class NetAugError extends Error {
  readonly code: NetAugErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    code: NetAugErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(options.hint ? `${message} — ${options.hint}` : message, { cause: options.cause });
    this.name = 'NetAugError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** True when `e` is a NetAugError (also across duplicated package copies, by duck-typing the name). */
export function isNetAugError(e: unknown): e is NetAugError {
  return e instanceof NetAugError || (e instanceof Error && e.name === 'NetAugError' && 'code' in e);
}

/** Throws an INVALID_ARGUMENT NetAugError unless `condition` holds. */
export function assertArg(condition: unknown, message: string, hint?: string): asserts condition {
  if (!condition) throw new NetAugError('INVALID_ARGUMENT', message, { hint });
}
