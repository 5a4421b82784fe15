import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { setupBackend } from './backend';
import { readRunFolder } from './read-run';

/**
 * How a model's input is made from an image file — what `netaug export` writes next to every exported model as
 * `preprocessing.json`, so that an exported file alone can be used: decode, resize (sharp, `cover`: scale to fill,
 * centre crop) to `inputShape`, convert to `inputShape[2]` channels, scale pixels to 0…1, subtract `mean` and
 * divide by `std` per channel, lay out as NHWC float32.
 */
export interface Preprocessing {
  /** `[height, width, channels]` of one input image. */
  inputShape: [number, number, number];
  layout: 'NHWC';
  resize: 'cover';
  /** Pixels are multiplied by this (1/255: 8-bit to 0…1) before normalisation. */
  pixelScale: number;
  mean: number[];
  std: number[];
  /** The class each output index stands for. */
  classNames: string[];
  /** The model file (in the same folder) these settings are for, when written by an export. */
  model?: string;
}

/** The preprocessing of a run folder's model (what training used, at test time). */
export function runPreprocessing(run: ReturnType<typeof readRunFolder>): Preprocessing {
  return {
    inputShape: run.data.inputShape,
    layout: 'NHWC',
    resize: 'cover',
    pixelScale: 1 / 255,
    mean: run.data.mean,
    std: run.data.std,
    classNames: run.data.classNames,
  };
}

/** One image's classification: the top classes with their softmax probabilities. */
export interface Prediction {
  file: string;
  top: { label: number; className: string; probability: number }[];
}

export interface PredictOptions {
  /** A run folder (its model.nair), or an exported model (`model.json`, `.onnx`, `.tflite`) with its preprocessing.json. */
  model: string;
  files: string[];
  top?: number;
}

type ModelKind = 'run' | 'tfjs' | 'onnx' | 'tflite';

function kindOf(path: string): ModelKind {
  if (!existsSync(path)) {
    throw new NetAugError('DATA_NOT_FOUND', `no such model: ${path}`, {
      hint: 'pass a run folder (--run) or an exported model.json / model.onnx / model.tflite (--model)',
    });
  }
  if (statSync(path).isDirectory()) return existsSync(join(path, 'model.json')) && !existsSync(join(path, 'config.json')) ? 'tfjs' : 'run';
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'tfjs';
  if (ext === '.onnx') return 'onnx';
  if (ext === '.tflite') return 'tflite';
  throw new NetAugError('INVALID_ARGUMENT', `${path}: not a run folder or a model.json / .onnx / .tflite model`);
}

/** Reads `preprocessing.json` next to an exported model. */
export function readPreprocessing(modelFile: string): Preprocessing {
  const dir = statSync(modelFile).isDirectory() ? modelFile : dirname(modelFile);
  const file = join(dir, 'preprocessing.json');
  if (!existsSync(file)) {
    throw new NetAugError('DATA_NOT_FOUND', `no preprocessing.json next to ${modelFile}`, {
      hint: '`netaug export` writes it beside the model; or predict with the run folder (--run)',
    });
  }
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Preprocessing;
    if (!Array.isArray(p.inputShape) || p.inputShape.length !== 3 || !Array.isArray(p.classNames))
      throw new Error('inputShape [h, w, c] and classNames are required');
    return p;
  } catch (e) {
    throw new NetAugError('INVALID_CONFIG', `${file} is not a preprocessing file: ${(e as Error).message}`, {
      hint: 'export the model again with `netaug export`',
    });
  }
}

/** An image file as the model's input (see {@link Preprocessing}). */
export async function preprocessImage(file: string, p: Preprocessing): Promise<Float32Array> {
  const { decodeImage } = await import('@netaug/data');
  const [h, w, c] = p.inputShape;
  if (!existsSync(file) || statSync(file).isDirectory())
    throw new NetAugError('DATA_NOT_FOUND', `no such image file: ${file}`);
  let px: Uint8Array;
  try {
    px = await decodeImage(file, {
      size: [h, w],
      channels: c as 1 | 3,
      fit: 'cover',
      cacheDir: false,
      skipCorrupt: false,
    });
  } catch (e) {
    throw new NetAugError('DATA_FORMAT', `cannot decode image ${file}: ${(e as Error).message}`, {
      hint: 'pass PNG, JPEG, WebP, GIF, TIFF or AVIF files',
    });
  }
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i += c)
    for (let k = 0; k < c; k++) out[i + k] = (px[i + k] * p.pixelScale - p.mean[k]) / p.std[k];
  return out;
}

function softmaxTop(logits: ArrayLike<number>, classNames: string[], k: number): Prediction['top'] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e
    .map((v, label) => ({ label, className: classNames[label] ?? String(label), probability: v / sum }))
    .sort((a, b) => b.probability - a.probability || a.label - b.label)
    .slice(0, k);
}

/** Classifies image files with a run's model or an exported model, preprocessed as at training time. */
export async function predictRun(o: PredictOptions): Promise<{ model: string; runtime: string; predictions: Prediction[] }> {
  if (!o.files.length)
    throw new NetAugError('INVALID_ARGUMENT', 'give at least one image file', {
      hint: 'netaug predict --run runs/x photo1.png photo2.jpg',
    });
  const kind = kindOf(o.model);
  const run = kind === 'run' ? readRunFolder(o.model) : undefined;
  const p = run ? runPreprocessing(run) : readPreprocessing(o.model);
  if (run?.config.task === 'detect' || (p as { task?: string }).task === 'detect')
    throw new NetAugError('UNSUPPORTED_OP', `${o.model} is a detector: netaug predict classifies images`, {
      hint: "decode a detector's outputs with decodeRaw of @netaug/detector (or its C post-processing); netaug eval --run gives its mAP",
    });
  const inputs = await Promise.all(o.files.map((f) => preprocessImage(f, p)));
  const top = Math.min(o.top ?? 5, p.classNames.length);
  let outputs: Float32Array[];
  let runtime: string;
  if (run) {
    const backend = await setupBackend((process.env.NETAUG_BACKEND as 'cpu' | undefined) ?? 'auto');
    const tf = await import('@tensorflow/tfjs-core');
    const { buildTfModel } = await import('@netaug/supernet');
    const model = buildTfModel(run.ir);
    try {
      const [h, w, c] = p.inputShape;
      const buf = new Float32Array(inputs.length * h * w * c);
      inputs.forEach((x, i) => buf.set(x, i * h * w * c));
      const y = tf.tidy(() => model.predict(tf.tensor4d(buf, [inputs.length, h, w, c])).dataSync() as Float32Array);
      const k = y.length / inputs.length;
      outputs = inputs.map((_, i) => y.slice(i * k, (i + 1) * k));
    } finally {
      model.dispose();
    }
    runtime = `tfjs (${backend.name})`;
  } else {
    const ex = await import('@netaug/exporters');
    if (kind === 'onnx') outputs = (await ex.verifyOnnx(o.model, inputs)).outputs;
    else if (kind === 'tflite') outputs = (await ex.verifyTflite(o.model, inputs)).outputs;
    else outputs = (await ex.verifyTfjs(statSync(o.model).isDirectory() ? o.model : dirname(o.model), inputs)).outputs;
    runtime = kind === 'onnx' ? 'onnxruntime-node' : kind === 'tflite' ? 'LiteRT' : 'tfjs';
  }
  return {
    model: o.model,
    runtime,
    predictions: outputs.map((y, i) => ({ file: o.files[i], top: softmaxTop(y, p.classNames, top) })),
  };
}

/** `photo.png  Sandal 93.1%  Sneaker 4.2%  …` */
export function formatPrediction(r: Prediction): string {
  return `${basename(r.file)}  ${r.top.map((t) => `${t.className} ${(100 * t.probability).toFixed(1)}%`).join('  ')}`;
}
