#!/usr/bin/env node
// Builds the page of examples/web into a folder (default examples/web/dist): main.js bundled by esbuild for the
// browser (the @netaug/* packages' `browser` builds, tfjs-core and the cpu, wasm, webgl and webgpu backends),
// index.html, tfjs-backend-wasm's .wasm binaries (wasm/) and the embedded Fashion-MNIST subset of @netaug/data
// (data/). Usage: node examples/web/build.mjs [--out DIR] [--no-minify]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 ? args[outAt + 1] : join(here, 'dist'));
const require = createRequire(join(here, 'build.mjs'));

const t0 = performance.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'wasm'), { recursive: true });
mkdirSync(join(out, 'data'), { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(out, 'main.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: !args.includes('--no-minify'),
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
const wasm = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
for (const f of wasm) copyFileSync(join(wasmDir, f), join(out, 'wasm', f));
const dataDir = join(dirname(require.resolve('@netaug/data/package.json')), 'assets', 'fashion-mnist-subset');
const data = readdirSync(dataDir);
for (const f of data) copyFileSync(join(dataDir, f), join(out, 'data', f));
const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + (o.entryPoint ? o.bytes : 0), 0);
console.log(
  `built ${out}: main.js ${(bytes / 1024).toFixed(0)} KiB, wasm/ (${wasm.join(', ')}), data/ (${data.length} files) ` +
    `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
