/**
 * The web page of examples/web: trains MobileNetV2-Tiny with NetAug on the embedded Fashion-MNIST subset in the
 * browser, draws the loss and accuracy as it goes, and offers the trained tiny model as TFLite and ONNX files.
 *
 * URL parameters (all optional): `backend` (webgpu | webgl | wasm | cpu; default: the first that starts),
 * `epochs`, `images` (training images), `batch`, `steps` (train exactly this many steps: one epoch of
 * `steps × batch` images), `val` (validation images), `seed`, `threads` (wasm threads: effective where the page is
 * cross-origin isolated, as serve.mjs serves it), `autostart` (train on load), `report` (POST the results as JSON
 * to this URL and the model files to `<report>/<file>`; the browser test uses it).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  BROWSER_BACKEND_NAMES,
  describeBackend,
  initBackend,
  type BrowserBackendName,
} from '@netaug/backend';
import { createLoader, fetchBuiltin, normalize, subset, type MemoryDataset } from '@netaug/data';
import { buildOnnx, buildTflite } from '@netaug/exporters';
import { buildTfModel, createSupernet } from '@netaug/supernet';
import {
  Trainer,
  decodeCheckpoint,
  indexedDbCheckpointStore,
  labelSmoothing,
  netaug,
  type Callback,
} from '@netaug/trainer';

// tfjs-backend-wasm fetches its .wasm binaries from here (build.mjs copies them next to the page)
setWasmPaths(new URL('./wasm/', location.href).href);

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => {
  const v = params.get(name);
  return v == null || v === '' ? fallback : Number(v);
};
// threads of the wasm backend (its threaded build runs only where the page is cross-origin isolated; without
// `threads` tfjs gives it navigator.hardwareConcurrency / 2)
const threads = params.get('threads') ? num('threads', 1) : undefined;

interface Settings {
  backend: BrowserBackendName | undefined;
  epochs: number;
  images: number;
  batch: number;
  val: number;
  seed: number;
}

function settingsFrom(form: HTMLFormElement | null): Settings {
  const f = form ? new FormData(form) : null;
  // the form when it was submitted ('' = auto), else the URL
  const backend = f ? String(f.get('backend') ?? '') : (params.get('backend') ?? '');
  if (backend && !(BROWSER_BACKEND_NAMES as readonly string[]).includes(backend))
    throw new Error(`backend must be one of ${BROWSER_BACKEND_NAMES.join(', ')}, got '${backend}'`);
  const batch = num('batch', 64);
  const steps = params.get('steps');
  return {
    backend: (backend || undefined) as BrowserBackendName | undefined,
    epochs: steps ? 1 : Number(f?.get('epochs') ?? num('epochs', 3)),
    images: steps ? Number(steps) * batch : Number(f?.get('images') ?? num('images', 2048)),
    batch,
    val: num('val', 500),
    seed: num('seed', 0),
  };
}

function log(line: string): void {
  console.log(line);
  const el = $('#log');
  el.textContent += line + '\n';
  el.scrollTop = el.scrollHeight;
}

/** A line chart of `series` in `svg` (y range from the data, x = index). */
function drawChart(
  svg: SVGSVGElement,
  series: { values: number[]; color: string; dots?: boolean; n?: number }[],
): void {
  const W = 400;
  const H = 220;
  const pad = 30;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) return;
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all) || 1;
  const n = Math.max(2, ...series.map((s) => s.n ?? s.values.length));
  const x = (i: number) => pad + ((W - pad - 5) * i) / (n - 1);
  const y = (v: number) => H - pad + ((pad + 5 - H) * (v - lo)) / (hi - lo);
  const parts = [
    `<line x1="${pad}" y1="${H - pad}" x2="${W - 5}" y2="${H - pad}" stroke="#999"/>`,
    `<line x1="${pad}" y1="5" x2="${pad}" y2="${H - pad}" stroke="#999"/>`,
    `<text x="2" y="12" font-size="10">${hi.toFixed(2)}</text>`,
    `<text x="2" y="${H - pad}" font-size="10">${lo.toFixed(2)}</text>`,
    `<text x="${W - 60}" y="${H - 8}" font-size="10">step ${n - 1}</text>`,
  ];
  for (const s of series) {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    if (s.dots)
      s.values.forEach((v, i) => {
        if (Number.isFinite(v))
          parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}"/>`);
      });
    else
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
  }
  svg.innerHTML = parts.join('');
}

/** Mean and standard deviation of the pixels (in [0, 1]) of a dataset, for the normalisation. */
function pixelStats(ds: MemoryDataset): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (const p of ds.pixels) {
    s += p / 255;
    s2 += (p / 255) ** 2;
  }
  const mean = s / ds.pixels.length;
  return { mean, std: Math.sqrt(s2 / ds.pixels.length - mean * mean) };
}

/** Whether `r` is a path on this page's own origin (results never go to another site). */
const isLocalPath = (r: string) => r.startsWith('/') && !r.startsWith('//');

/** The `report` parameter, or null; it must be a path on this origin. */
function reportPath(): string | null {
  const r = params.get('report');
  if (r == null) return null;
  if (!isLocalPath(r)) throw new Error(`report must be a path on this origin (like /result), got '${r}'`);
  return r;
}

async function post(url: string, body: string | Uint8Array): Promise<void> {
  // the exporters' bytes are backed by plain ArrayBuffers (the DOM types also admit shared ones)
  await fetch(url, { method: 'POST', body: body as string | Uint8Array<ArrayBuffer> });
}

async function run(settings: Settings): Promise<Record<string, unknown>> {
  const report = reportPath();
  const backend = await initBackend({
    prefer: settings.backend,
    fallback: settings.backend == null,
    threads,
  });
  const tensorsAtStart = tf.memory().numTensors;
  const kernels = backend.netaugKernels.length
    ? `NetAug kernels: ${backend.netaugKernels.join(', ')}`
    : 'no NetAug kernels here: batch norm and gradients run as plain tfjs ops';
  $('#backend').textContent = `${backend.name} — ${kernels}`;
  log(`backend ${describeBackend()} (${backend.reason})`);
  for (const t of backend.tried.filter((a) => !a.ok)) log(`  ${t.name} skipped: ${t.reason}`);

  const dataUrl = new URL('./data/', location.href).href;
  const [trainAll, testAll] = await Promise.all([
    fetchBuiltin('fashion-mnist', { baseUrl: dataUrl, split: 'train' }),
    fetchBuiltin('fashion-mnist', { baseUrl: dataUrl, split: 'test' }),
  ]);
  const train = subset(trainAll, Math.min(settings.images, trainAll.size), settings.seed);
  const val = subset(testAll, Math.min(settings.val, testAll.size), settings.seed);
  const { mean, std } = pixelStats(trainAll);
  const norm = normalize([mean], [std]);
  const trainLoader = createLoader(train, {
    batchSize: settings.batch,
    seed: settings.seed,
    transform: norm,
  });
  const valLoader = createLoader(val, { batchSize: 250, shuffle: false, transform: norm });
  log(
    `data: ${train.size} training and ${val.size} validation images of Fashion-MNIST (embedded subset, fetched), ` +
      `normalised with mean ${mean.toFixed(4)}, std ${std.toFixed(4)}`,
  );

  const supernet = createSupernet('mobilenetv2-tiny', {
    numClasses: 10,
    inputShape: [28, 28, 1],
    seed: settings.seed,
  });
  const losses: number[] = [];
  const tinyLosses: number[] = [];
  const accs: number[] = [];
  const stepSeconds: number[] = [];
  const valTop1: number[] = [];
  const stepsPerEpoch = trainLoader.batchesPerEpoch;
  const totalSteps = stepsPerEpoch * settings.epochs;
  const redraw = () => {
    drawChart($('#loss'), [
      { values: losses, color: '#bbb', n: totalSteps },
      { values: tinyLosses, color: '#c0392b', n: totalSteps },
    ]);
    drawChart($('#acc'), [
      { values: accs, color: '#2980b9', n: totalSteps },
      {
        // validation points at the end of each epoch
        values: Array.from({ length: totalSteps }, (_, i) => {
          const e = (i + 1) / stepsPerEpoch - 1;
          return Number.isInteger(e) && e < valTop1.length ? valTop1[e] : NaN;
        }),
        color: '#27ae60',
        dots: true,
        n: totalSteps,
      },
    ]);
  };
  const chart: Callback = {
    name: 'chart',
    onBatchEnd: async (_ctx, s) => {
      losses.push(s.loss);
      tinyLosses.push(s.terms.tiny);
      accs.push(s.correct === undefined ? Number.NaN : s.correct / s.size); // classification steps count correct
      stepSeconds.push(s.seconds);
      $('#status').textContent =
        `epoch ${s.epoch + 1}/${settings.epochs}, step ${s.globalStep + 1}/${totalSteps}: ` +
        `loss ${s.loss.toFixed(3)} (tiny ${s.terms.tiny.toFixed(3)}), ${(s.size / s.seconds).toFixed(0)} images/s`;
      redraw();
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
    },
    onEpochEnd: (_ctx, r) => {
      if (r.val) valTop1.push(r.val.top1);
      log(
        `epoch ${r.epoch + 1}: train loss ${r.train.loss.toFixed(3)}, top-1 ${(100 * (r.train.top1 ?? Number.NaN)).toFixed(1)}%` +
          (r.val ? `; validation top-1 ${(100 * r.val.top1).toFixed(1)}% (BN re-estimated)` : '') +
          `, ${r.seconds.toFixed(1)} s`,
      );
      redraw();
    },
  };
  const store = indexedDbCheckpointStore('examples-web');
  const trainer = new Trainer({
    supernet,
    trainLoader,
    valLoader,
    checkpointStore: store,
    seed: settings.seed,
    optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    // 0.1 per 128 images (the fmnist-tiny preset of the CLI), scaled linearly with the batch
    lrSchedule: {
      type: 'cosine',
      baseLr: (0.1 * settings.batch) / 128,
      warmupEpochs: settings.epochs > 1 ? 1 : 0,
    },
    strategies: [
      netaug({
        epochs: settings.epochs,
        widthMults: supernet.space.widthMults,
        expandFactors: supernet.space.expandFactors,
      }),
      labelSmoothing(0.1),
    ],
    bnReestimation: { images: Math.min(500, train.size) },
    callbacks: [chart],
  });
  log(`training: NetAug, ${settings.epochs} epoch(s) × ${stepsPerEpoch} steps of ${settings.batch} images`);
  const summary = await trainer.fit({ epochs: settings.epochs });
  const saved = await store.read('checkpoint.bin');
  const checkpoint = saved ? decodeCheckpoint(saved) : null;
  log(
    `done in ${summary.seconds.toFixed(1)} s (${summary.stepsPerSecond.toFixed(2)} steps/s); tiny model ` +
      `${summary.model?.params} parameters; checkpoint in ${store.describe('checkpoint.bin')} ` +
      `(${saved?.length ?? 0} bytes, epoch ${checkpoint?.epoch}, step ${checkpoint?.globalStep})`,
  );

  // the trained tiny model (the best validation epoch, BN re-estimated) as files
  const ir = trainer.finalModel!;
  const tflite = buildTflite(ir);
  const onnx = buildOnnx(ir);
  const links = $('#downloads');
  links.innerHTML = 'Download the tiny model: ';
  for (const [name, bytes, type] of [
    ['netaug-tiny.tflite', tflite, 'application/octet-stream'],
    ['netaug-tiny.onnx', onnx, 'application/octet-stream'],
  ] as const) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
    a.download = name;
    a.textContent = `${name} (${(bytes.length / 1024).toFixed(1)} KiB)`;
    links.append(a);
  }

  // logits of the exported model for four fixed test images, on the active backend (the test compares LiteRT's)
  const probe = Array.from({ length: 4 }, (_, i) => {
    const img = testAll.get(i).image;
    return Array.from(img, (v) => (v - mean) / std);
  });
  const model = buildTfModel(ir);
  const logitsT = tf.tidy(() => model.predict(tf.tensor4d(probe.flat(), [probe.length, 28, 28, 1])));
  const logits = Array.from(await logitsT.data());
  logitsT.dispose();
  model.dispose();
  trainer.dispose();
  supernet.dispose();
  await Promise.all([trainLoader.close(), valLoader.close()]);
  const result = {
    ok: true,
    backend: backend.name,
    netaugKernels: backend.netaugKernels,
    describe: describeBackend(),
    crossOriginIsolated: self.crossOriginIsolated,
    steps: losses.length,
    stepSeconds,
    losses,
    tinyLosses,
    accs,
    valTop1,
    params: summary.model?.params,
    checkpoint: checkpoint && {
      bytes: saved!.length,
      epoch: checkpoint.epoch,
      globalStep: checkpoint.globalStep,
    },
    tfliteBytes: tflite.length,
    onnxBytes: onnx.length,
    probe,
    logits,
    tensorsAtStart,
    tensorsAtEnd: tf.memory().numTensors,
  };
  if (report) {
    await post(`${report}/netaug-tiny.tflite`, tflite);
    await post(`${report}/netaug-tiny.onnx`, onnx);
    await post(report, JSON.stringify(result));
  }
  $('#status').textContent = `Trained ${losses.length} steps on ${backend.name}.`;
  return result;
}

async function start(form: HTMLFormElement | null): Promise<void> {
  const button = $<HTMLButtonElement>('#form button');
  button.disabled = true;
  try {
    await run(settingsFrom(form));
  } catch (e) {
    const text = String((e as Error)?.stack ?? e);
    $('#status').textContent = `Failed: ${(e as Error)?.message ?? e}`;
    log(text);
    const r = params.get('report');
    const report = r != null && isLocalPath(r) ? r : null;
    if (report) await post(report, JSON.stringify({ ok: false, error: text }));
  } finally {
    button.disabled = false;
  }
}

// the form starts from the URL's settings
for (const name of ['backend', 'epochs', 'images']) {
  const v = params.get(name);
  const field = $<HTMLFormElement>('#form').elements.namedItem(name) as HTMLInputElement | null;
  if (v != null && field) field.value = v;
}
$<HTMLFormElement>('#form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void start(ev.target as HTMLFormElement);
});
if (params.has('autostart') || params.has('steps')) void start(null);
