import { isNetAugError } from '@netaug/core';

/** Exit codes of the netaug command. */
export const EXIT = { ok: 0, user: 1, internal: 2 } as const;

/** An error the user caused on the command line (bad flag value, missing file): printed as one line, exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Prints an error the way the CLI promises: one line saying what to fix and exit code 1 for anything the
 * user can fix (NetAugError except INTERNAL, UsageError); a stack trace and exit code 2 for bugs.
 * `--verbose` adds the stack to user errors too.
 */
export function reportError(
  e: unknown,
  verbose: boolean,
  write: (s: string) => void = (s) => process.stderr.write(s),
): number {
  const userError = e instanceof UsageError || (isNetAugError(e) && e.code !== 'INTERNAL');
  if (userError) {
    const code = isNetAugError(e) ? ` [${e.code}]` : '';
    write(`netaug: error${code}: ${(e as Error).message}\n`);
    if (verbose && (e as Error).stack) write(`${(e as Error).stack}\n`);
    return EXIT.user;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  write(`netaug: internal error: ${err.message}\n`);
  write(verbose ? `${err.stack}\n` : 'Run again with --verbose for the stack trace, and please report it.\n');
  return EXIT.internal;
}
