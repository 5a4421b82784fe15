/**
 * Bundles every package that runs in a browser (core, schedulers, supernet, backend, data, trainer, exporters) the
 * way a web application's bundler does — esbuild, platform browser, so the packages' `browser` export condition
 * applies — from the BUILT packages, with everything they import (tfjs-core, zod, onnx-proto, flatbuffers…), and
 * fails on any Node built-in (`fs`, `path`, `worker_threads`, `events`…) anywhere in the graph that the importing
 * package does not itself disable for browsers.
 */
import { build, type BuildFailure, type BuildResult } from 'esbuild';
import { ROOT, listPackages } from './support/workspace';

const BROWSER_PACKAGES = ['core', 'schedulers', 'supernet', 'backend', 'data', 'trainer', 'exporters'];
/** The packages with a browser build of their own (the others' ESM entry has no Node built-ins to begin with). */
const OWN_BROWSER_BUILD = new Set(['backend', 'data', 'trainer', 'exporters']);

const pkgs = listPackages().filter((p) => BROWSER_PACKAGES.includes(p.folder));

test('the browser packages are all here and built', () => {
  expect(pkgs.map((p) => p.folder).sort()).toEqual([...BROWSER_PACKAGES].sort());
  for (const p of pkgs) expect([p.folder, p.built]).toEqual([p.folder, true]);
});

describe.each(pkgs.map((p) => [p.manifest.name, p.folder] as const))('%s', (name, folder) => {
  test('bundles for the browser with no Node built-in anywhere in its import graph', async () => {
    // esbuild fails on every import it cannot resolve for a browser, e.g. 'Could not resolve "fs"' (built-ins a
    // dependency disables in its package.json "browser" field, as tfjs-core does, become empty modules)
    let result: BuildResult<{ write: false; metafile: true }> | null = null;
    let errors: string[] = [];
    try {
      result = await build({
        stdin: { contents: `export * from '${name}';`, resolveDir: ROOT, loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
    } catch (e) {
      errors = (e as BuildFailure).errors.map((m) => `${m.text} (in ${m.location?.file ?? '?'})`);
    }
    expect(errors).toEqual([]);
    const inputs = Object.keys(result!.metafile.inputs);
    // the bundler took the package's browser entry (its own build, or the ESM entry)
    const entry = `packages/${folder}/dist/${OWN_BROWSER_BUILD.has(folder) ? 'index.browser.mjs' : 'index.mjs'}`;
    expect(inputs).toContain(entry);
    if (OWN_BROWSER_BUILD.has(folder)) expect(inputs).not.toContain(`packages/${folder}/dist/index.mjs`);
    expect(result!.outputFiles[0].text.length).toBeGreaterThan(1000);
  });
});
