import { promises as fsp } from 'fs';
import * as path from 'path';
import { NetAugError } from '@netaug/core';
import { resolveOptional } from '../optional-require';
import { readTfliteModel } from '../tflite/schema-reader';
import { verifyResult, type VerifyOptions, type VerifyResult } from './types';
import { runWorker, toLocalFloat32 } from './worker';

/**
 * The LiteRT.js Node shim, run inside a worker thread. LiteRT.js is an ES module written for browsers: it
 * loads its Emscripten glue with `importScripts` (workers) or a `<script>` tag and then reads
 * `self.ModuleFactory`. In Node there is neither, so the shim defines `self` and an `importScripts` that
 * evaluates the glue file as CommonJS (it is UMD, but lives in a `"type": "module"` package, so plain
 * `require` would load it as ESM); the glue then finds its `.wasm` next to itself through `__filename`. The worker
 * keeps these globals, and LiteRT's process-wide "already loaded" state, out of the caller's realm, and
 * lets a CommonJS caller (or jest) use the ES module.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { pathToFileURL, fileURLToPath } = require('node:url');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
(async () => {
  const { entry, wasmDir, model, inputs } = workerData;
  globalThis.self = globalThis;
  // no WebGPU in Node: LiteRT only warns about it; keep the CPU run quiet
  const warn = console.warn;
  console.warn = (...a) => { if (!String(a[0]).startsWith('Failed to create default WebGPU device')) warn(...a); };
  const req = createRequire(entry);
  globalThis.importScripts = (url) => {
    const file = String(url).startsWith('file:') ? fileURLToPath(String(url)) : String(url);
    // the glue is CommonJS/UMD but sits in a "type": "module" package, so require() would treat it as ESM
    const src = fs.readFileSync(file, 'utf8');
    const wrapper = vm.runInThisContext('(function (exports, require, module, __filename, __dirname) {' + src + '\\n})', { filename: file });
    const mod = { exports: {} };
    wrapper(mod.exports, req, mod, file, path.dirname(file));
    globalThis.ModuleFactory = mod.exports;
  };
  const lrt = await import(pathToFileURL(entry).href);
  await lrt.loadLiteRt(wasmDir.endsWith('/') ? wasmDir : wasmDir + '/');
  const compiled = await lrt.loadAndCompile(new Uint8Array(model), { accelerator: 'wasm' });
  const inDetails = compiled.getInputDetails();
  const outDetails = compiled.getOutputDetails();
  const shape = Array.from(inDetails[0].shape);
  const outputs = [];
  for (const x of inputs) {
    const t = new lrt.Tensor(new Float32Array(x), shape);
    const res = await compiled.run([t]);
    t.delete();
    const perOutput = [];
    for (const r of res) {
      const host = await r.moveTo('wasm');
      perOutput.push(Float32Array.from(host.toTypedArray()));
      host.delete();
      if (!r.deleted) r.delete();
    }
    outputs.push(perOutput);
  }
  compiled.delete();
  parentPort.postMessage({ ok: true, outputs, input: { shape, dtype: inDetails[0].dtype }, output: { shape: Array.from(outDetails[0].shape), dtype: outDetails[0].dtype } });
})().catch((e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }));
`;

/** Where `@litertjs/core` and its wasm files live. */
function resolveLiteRt(): { entry: string; wasmDir: string } {
  const entry = resolveOptional('@litertjs/core', 'verifyTflite');
  return { entry, wasmDir: path.join(path.dirname(entry), '..', 'wasm') };
}

/**
 * Runs a `.tflite` model (float32 I/O: float models and int8 models with QUANTIZE/DEQUANTIZE edges) in
 * LiteRT.js on the CPU (wasm/XNNPACK) inside a worker thread, one example at a time, and returns every output of
 * every example (`allOutputs`, in the model's output order; `outputs`: the first).
 *
 * @param model file path or bytes.
 * @param inputs NHWC images, each `H·W·C` floats.
 */
export async function verifyTflite(
  model: string | Uint8Array,
  inputs: readonly Float32Array[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const bytes = typeof model === 'string' ? new Uint8Array(await fsp.readFile(model)) : model;
  const parsed = readTfliteModel(bytes);
  const io = [...parsed.inputs, ...parsed.outputs].map((i) => parsed.tensors[i].type);
  if (io.some((t) => t !== 'FLOAT32')) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `verifyTflite: the model's input/output types are ${io.join('/')}`,
      {
        hint: 'LiteRT.js runs float32-I/O models only; export int8 models without int8Io to verify them',
      },
    );
  }
  const { entry, wasmDir } = resolveLiteRt();
  const msg = await runWorker<{ outputs: Float32Array[][] }>(
    WORKER_SOURCE,
    { entry, wasmDir, model: bytes, inputs },
    'LiteRT.js',
  );
  return verifyResult(
    msg.outputs.map((o) => o.map(toLocalFloat32)),
    options,
  );
}
