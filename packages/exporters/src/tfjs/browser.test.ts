/**
 * Loads an exported LayersModel in headless Chromium with tf.loadLayersModel over http (tfjs UMD bundles
 * served from node_modules) and compares its predictions with runModelIR. Skipped, with a message, when
 * Chromium is not installed (Debian: apt-get install -y chromium) — failed instead under CI=true.
 */
import { mkdtempSync, promises as fsp, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { fitBatchNormStats, maxAbsDiff, mobilenetLike, randomImages, stack, unstack } from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { chromiumTest, runPage, type Served } from '../test-support/chromium';
import { exportTfjs } from './export';

jest.setTimeout(120_000);

const dist = (pkg: string) => path.dirname(require.resolve(pkg));
const SCRIPTS: Record<string, string> = {
  '/tf/tf-core.min.js': path.join(dist('@tensorflow/tfjs-core'), 'tf-core.min.js'),
  '/tf/tf-backend-cpu.min.js': path.join(dist('@tensorflow/tfjs-backend-cpu'), 'tf-backend-cpu.min.js'),
  '/tf/tf-layers.min.js': path.join(dist('@tensorflow/tfjs-layers'), 'tf-layers.min.js'),
};

const PAGE = `<!doctype html><html><body>
<script src="/tf/tf-core.min.js"></script>
<script src="/tf/tf-backend-cpu.min.js"></script>
<script src="/tf/tf-layers.min.js"></script>
<script>
(async () => {
  const post = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
  try {
    await tf.setBackend('cpu');
    const { shape, inputs } = await (await fetch('/inputs.json')).json();
    const model = await tf.loadLayersModel('/model/model.json');
    const x = tf.tensor(inputs.flat(), [inputs.length, ...shape]);
    const y = model.predict(x);
    post({ ok: true, backend: tf.getBackend(), outputs: Array.from(await y.data()) });
  } catch (e) {
    post({ ok: false, error: String(e && e.stack || e) });
  }
})();
</script></body></html>`;

chromiumTest('a LayersModel export loads in headless Chromium and matches runModelIR', async () => {
  const shape: [number, number, number] = [32, 32, 3];
  const ir = fitBatchNormStats(mobilenetLike(shape), randomImages(shape, 8, 5));
  const imgs = randomImages(shape, 4, 21);
  const expected = runModelIR(ir, stack(imgs), imgs.length);
  const work = mkdtempSync(path.join(tmpdir(), 'netaug-browser-'));
  const modelDir = path.join(work, 'model');
  try {
    await exportTfjs(ir, modelDir);
    const route = async (url: string): Promise<Served | null> => {
      if (url === '/' || url === '/index.html') return { body: PAGE, type: 'text/html' };
      if (url === '/inputs.json')
        return {
          body: JSON.stringify({ shape, inputs: imgs.map((x) => Array.from(x)) }),
          type: 'application/json',
        };
      if (SCRIPTS[url]) return { body: await fsp.readFile(SCRIPTS[url]), type: 'text/javascript' };
      if (url.startsWith('/model/') && !url.includes('..')) {
        const body = await fsp.readFile(path.join(modelDir, url.slice('/model/'.length)));
        return { body, type: url.endsWith('.json') ? 'application/json' : 'application/octet-stream' };
      }
      return null;
    };
    const { result: r } = await runPage<{
      ok: boolean;
      outputs?: number[];
      error?: string;
      backend?: string;
    }>({
      route,
      page: '/index.html',
    });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const diff = maxAbsDiff(Float32Array.from(r.outputs!), expected);
    console.log(`tfjs in Chromium (${r.backend}): max abs diff vs runModelIR ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    expect(unstack(Float32Array.from(r.outputs!), imgs.length)).toHaveLength(imgs.length);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
