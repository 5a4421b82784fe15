import { isNetAugError } from '@netaug/core';

/** What calling `f` throws, as `CODE: message` for typed errors (tests only; not exported by the package). */
export function errorText(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isNetAugError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return 'no error';
}
