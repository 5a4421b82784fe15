import { NetAugError } from './errors';

/**
 * True when `e` says that the package `name` itself cannot be found (CommonJS `MODULE_NOT_FOUND` or ES-module
 * `ERR_MODULE_NOT_FOUND` naming it) — not when the package is there but one of its own imports fails.
 */
export function isMissingModule(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || (err.code !== 'MODULE_NOT_FOUND' && err.code !== 'ERR_MODULE_NOT_FOUND')) return false;
  const message = String(err.message ?? '');
  return [`'${name}'`, `"${name}"`, `'${name}/`, `"${name}/`].some((q) => message.includes(q));
}

/**
 * Loads an optional dependency with the caller's own `load` (e.g. `() => import('sharp')`, so that the package
 * resolves from the caller's location and bundlers see the specifier). When the package is not installed,
 * throws `MISSING_DEPENDENCY` naming the package, what needs it, and the install command; any other failure
 * (the package is there but broken) is rethrown as it is.
 *
 * ```ts
 * const sharp = (await loadOptional('sharp', 'reading image folders', () => import('sharp'))).default;
 * ```
 */
export async function loadOptional<T>(name: string, usedBy: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingModule(e, name)) throw missingDependency(name, usedBy, e);
    throw e;
  }
}

/** The `MISSING_DEPENDENCY` error of {@link loadOptional}. */
export function missingDependency(name: string, usedBy: string, cause?: unknown): NetAugError {
  return new NetAugError('MISSING_DEPENDENCY', `${usedBy} needs the optional package ${name}, which is not installed`, {
    hint: `npm install ${name}`,
    cause,
    details: { package: name },
  });
}
