import { isNetAugError } from './errors';
import { isMissingModule, loadOptional } from './optional';

test('a package that is not installed: MISSING_DEPENDENCY naming it, what needs it, and the install command', async () => {
  // a real failed resolution (CommonJS require inside jest), not a hand-made error object
  const e = await loadOptional('netaug-no-such-package', 'drawing plots', async () =>
    require('netaug-no-such-package'),
  ).catch((x: unknown) => x);
  expect(isNetAugError(e)).toBe(true);
  const err = e as import('./errors').NetAugError;
  expect(err.code).toBe('MISSING_DEPENDENCY');
  expect(err.message).toBe(
    'drawing plots needs the optional package netaug-no-such-package, which is not installed — npm install netaug-no-such-package',
  );
  expect(err.hint).toBe('npm install netaug-no-such-package');
  expect(err.details).toEqual({ package: 'netaug-no-such-package' });
  expect((err.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
});

test('an installed package loads; one whose own import fails is rethrown unchanged', async () => {
  await expect(loadOptional('zod', 'x', async () => require('zod'))).resolves.toHaveProperty('z');
  // the package is there but something it imports is missing: not "install <package>"
  const inner = Object.assign(new Error("Cannot find module 'libvips-binding' from 'node_modules/sharp/lib'"), {
    code: 'MODULE_NOT_FOUND',
  });
  await expect(
    loadOptional('sharp', 'x', async () => {
      throw inner;
    }),
  ).rejects.toBe(inner);
});

test('isMissingModule matches the package and its subpaths, in CommonJS and ES-module wording only', () => {
  const cjs = (m: string) => Object.assign(new Error(m), { code: 'MODULE_NOT_FOUND' });
  const esm = (m: string) => Object.assign(new Error(m), { code: 'ERR_MODULE_NOT_FOUND' });
  expect(isMissingModule(cjs("Cannot find module 'vega'"), 'vega')).toBe(true);
  expect(isMissingModule(esm("Cannot find package 'vega' imported from /x/plots.mjs"), 'vega')).toBe(true);
  expect(isMissingModule(cjs("Cannot find module 'vega/build/vega.js'"), 'vega')).toBe(true);
  expect(isMissingModule(cjs("Cannot find module 'vega-lite'"), 'vega')).toBe(false);
  expect(isMissingModule(new Error("Cannot find module 'vega'"), 'vega')).toBe(false); // no code
  expect(isMissingModule(null, 'vega')).toBe(false);
});
