/**
 * Loads an exported LayersModel in headless Chromium with tf.loadLayersModel over http (tfjs UMD bundles
 * served from node_modules) and compares its predictions with runModelIR. Skipped, with a message, when
 * Chromium is not installed (Debian: apt-get install -y chromium).
 */
import { spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, promises as fsp, rmSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { fitBatchNormStats, maxAbsDiff, mobilenetLike, randomImages, stack, unstack } from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { exportTfjs } from './export';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `tfjs browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

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

(haveChromium ? it : it.skip)(
  'a LayersModel export loads in headless Chromium and matches runModelIR',
  async () => {
    const shape: [number, number, number] = [32, 32, 3];
    const ir = fitBatchNormStats(mobilenetLike(shape), randomImages(shape, 8, 5));
    const imgs = randomImages(shape, 4, 21);
    const expected = runModelIR(ir, stack(imgs), imgs.length);
    const work = mkdtempSync(path.join(tmpdir(), 'netaug-browser-'));
    const modelDir = path.join(work, 'model');
    await exportTfjs(ir, modelDir);

    let resolveResult: (r: { ok: boolean; outputs?: number[]; error?: string; backend?: string }) => void;
    const result = new Promise<{ ok: boolean; outputs?: number[]; error?: string; backend?: string }>(
      (r) => (resolveResult = r),
    );
    const server = http.createServer(async (req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      try {
        if (req.method === 'POST' && url === '/result') {
          let body = '';
          for await (const chunk of req) body += chunk;
          res.end('ok');
          resolveResult(JSON.parse(body));
          return;
        }
        let body: Buffer | string;
        let type = 'application/octet-stream';
        if (url === '/' || url === '/index.html') {
          body = PAGE;
          type = 'text/html';
        } else if (url === '/inputs.json') {
          body = JSON.stringify({ shape, inputs: imgs.map((x) => Array.from(x)) });
          type = 'application/json';
        } else if (SCRIPTS[url]) {
          body = await fsp.readFile(SCRIPTS[url]);
          type = 'text/javascript';
        } else if (url.startsWith('/model/') && !url.includes('..')) {
          body = await fsp.readFile(path.join(modelDir, url.slice('/model/'.length)));
          if (url.endsWith('.json')) type = 'application/json';
        } else {
          res.statusCode = 404;
          res.end();
          return;
        }
        res.setHeader('content-type', type);
        res.end(body);
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    let chrome: ChildProcess | undefined;
    try {
      chrome = spawn(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-dev-shm-usage',
          '--no-first-run',
          '--no-default-browser-check',
          `--user-data-dir=${path.join(work, 'profile')}`,
          `http://127.0.0.1:${port}/index.html`,
        ],
        // own process group, so the zygote / renderer / gpu children can be killed with it
        { stdio: 'ignore', detached: true },
      );
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no result from Chromium within 90 s')), 90_000).unref(),
      );
      const r = await Promise.race([result, timeout]);
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      const diff = maxAbsDiff(Float32Array.from(r.outputs!), expected);
      console.log(`tfjs in Chromium (${r.backend}): max abs diff vs runModelIR ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      expect(unstack(Float32Array.from(r.outputs!), imgs.length)).toHaveLength(imgs.length);
    } finally {
      if (chrome?.pid && chrome.exitCode === null) {
        const exited = new Promise<void>((r) => chrome!.once('exit', () => r()));
        try {
          process.kill(-chrome.pid, 'SIGKILL');
        } catch {
          chrome.kill('SIGKILL');
        }
        await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
      }
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(work, { recursive: true, force: true });
    }
  },
);
