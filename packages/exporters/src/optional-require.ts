import { createRequire } from 'module';
import * as path from 'path';
import { missingDependency } from '@netaug/core';

/** `require` of this module (CommonJS build, jest), or one anchored at the working directory (ES-module build). */
function localRequire(): NodeJS.Require {
  // bundlers replace `require` in ES-module output by a stub without `resolve`
  return typeof require === 'function' && typeof require.resolve === 'function'
    ? require
    : createRequire(path.join(process.cwd(), 'noop.js'));
}

/** Resolves an optional peer dependency or throws MISSING_DEPENDENCY saying how to install it. */
export function resolveOptional(name: string, usedBy: string): string {
  try {
    return localRequire().resolve(name);
  } catch (e) {
    throw missingDependency(name, usedBy, e);
  }
}

/** Loads an optional CommonJS peer dependency or throws MISSING_DEPENDENCY saying how to install it. */
export function requireOptional<T>(name: string, usedBy: string): T {
  const file = resolveOptional(name, usedBy);
  return localRequire()(file) as T;
}
