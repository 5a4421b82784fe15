#!/usr/bin/env node
// Times the wasm training step of examples/web in headless Chromium with 1 and 2 threads of tfjs-backend-wasm's
// threaded build (cross-origin isolated page, `?threads=N`) and in the unthreaded build (not isolated), the three
// alternating for `--rounds` rounds; prints JSON: each run's median step (NetAug, MobileNetV2-Tiny, batch 32, on
// the page's embedded Fashion-MNIST subset), its thread count as the page reports it, and the median ratios.
//
//   npm run build && node tools/bench/web-threads.mjs [--steps 30] [--rounds 2] [--batch 32]
//
// Needs Chromium (/usr/bin/chromium or $CHROMIUM_PATH). The page's first steps (warm-up) are left out of the
// medians (`--skip 5`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const steps = opt('--steps', 30);
const rounds = opt('--rounds', 2);
const batch = opt('--batch', 32);
const skip = opt('--skip', 5);

const tmp = mkdtempSync(join(tmpdir(), 'netaug-web-threads-'));
try {
  // the repository's Chromium harness (TypeScript), bundled for Node here
  const harness = join(tmp, 'chromium.mjs');
  await build({
    entryPoints: [join(ROOT, 'packages/exporters/src/test-support/chromium.ts')],
    outfile: harness,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  const { runPage, CONTENT_TYPES, haveChromium, CHROMIUM } = await import(pathToFileURL(harness).href);
  if (!haveChromium)
    throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);

  const out = join(tmp, 'page');
  const built = spawnSync(process.execPath, [join(ROOT, 'examples/web/build.mjs'), '--out', out], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`examples/web/build.mjs failed: ${built.stderr}`);
  const route = (url) => {
    const file = normalize(join(out, url === '/' ? 'index.html' : url));
    if (!file.startsWith(out + sep) || !existsSync(file)) return null;
    return { body: readFileSync(file), type: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' };
  };

  const variants = [
    { name: 'unthreaded build', isolated: false, threads: null },
    { name: 'threaded build, 1 thread', isolated: true, threads: 1 },
    { name: 'threaded build, 2 threads', isolated: true, threads: 2 },
  ];
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const page =
        `/index.html?backend=wasm&steps=${steps}&batch=${batch}&val=64&seed=0&report=/result` +
        (v.threads != null ? `&threads=${v.threads}` : '');
      const { result: r } = await runPage({
        route,
        page,
        crossOriginIsolated: v.isolated,
        timeoutMs: 600_000,
      });
      if (r.error) throw new Error(`${v.name}: the page failed: ${r.error}`);
      const ms = r.stepSeconds.slice(skip).map((s) => 1000 * s);
      const run = {
        round,
        variant: v.name,
        threads: Number(/threads (\d+)/.exec(r.describe)?.[1] ?? NaN),
        crossOriginIsolated: r.crossOriginIsolated,
        medianStepMs: median(ms),
        minStepMs: Math.min(...ms),
        maxStepMs: Math.max(...ms),
        firstTinyLoss: r.tinyLosses[0],
        lastTinyLoss: r.tinyLosses[r.tinyLosses.length - 1],
      };
      runs.push(run);
      console.error(`${v.name}: ${run.threads} thread(s), median step ${run.medianStepMs.toFixed(0)} ms`);
    }
  }
  const med = (name) => median(runs.filter((r) => r.variant === name).map((r) => r.medianStepMs));
  const [u, t1, t2] = variants.map((v) => med(v.name));
  console.log(
    JSON.stringify(
      {
        bench: 'web-threads',
        model: 'mobilenetv2-tiny (examples/web, NetAug)',
        batch,
        steps,
        skippedSteps: skip,
        cores: cpus().length,
        chromium: CHROMIUM,
        runs,
        medianStepMs: { unthreaded: u, threads1: t1, threads2: t2 },
        ratios: { threads2VsThreads1: t2 / t1, threads2VsUnthreaded: t2 / u, threads1VsUnthreaded: t1 / u },
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
