/**
 * Thrown by a cell handler for a failure that will happen again on every try (a bad config, a diverged run):
 * the job fails at once, is never retried, and keeps the message as its `failedReason`.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/**
 * Thrown by a cell handler for a failure that may pass (a full disk, a lost mount): the job is retried up to its
 * `attempts` with exponential backoff. Any other error a handler throws is treated the same way; this class only
 * makes the intent explicit.
 */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** True when `e` is a {@link PermanentError} (also across duplicated package copies, by its name). */
export function isPermanentError(e: unknown): e is PermanentError {
  return e instanceof PermanentError || (e instanceof Error && e.name === 'PermanentError');
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
