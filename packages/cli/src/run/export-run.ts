import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EXPORT_FORMAT_FILES, NetAugError, profile, type ExportFormat } from '@netaug/core';
import { setupBackend } from './backend';
import { readRunFolder } from './read-run';
import { loadRunEvalData } from './run-eval-data';
import { runPreprocessing } from './predict-run';
import { deployFigures } from './deploy';
import { isDetectRun, loadDetectEvalData, type DetectEvalData } from './detect-eval';

export type ExportFormatName = ExportFormat;

export interface ExportRunOptions {
  run: string;
  format: ExportFormatName;
  out: string;
  /** Calibration images for int8 (training images). */
  calibration: number;
  /** Run the exported file in its runtime on this many test images and compare with the tfjs model. */
  verify?: number;
  cHeader?: boolean;
  foldBn?: boolean;
  /** int8 weight scales: per layer as measured (`auto`) or one per output channel everywhere. */
  int8Weights?: 'auto' | 'per-channel';
}

export interface ExportRunResult {
  format: ExportFormatName;
  file: string;
  files: string[];
  bytes: number;
  params: number;
  macs: number;
  /**
   * Estimated peak activation RAM of sequential execution for one image, in this format's element size (see
   * `deployFigures`); the file's bytes are the flash the model takes.
   */
  peakActivationBytes: number;
  /**
   * With verify: max |exported − tfjs| over the logits (a detection run: over every raw output), top-1 agreement
   * with tfjs, top-1 accuracy of the export.
   */
  maxAbsDiff?: number;
  /** With verify, a detection run: VOC mAP@0.5 of the export's and of the tfjs model's decoded detections. */
  vocMAP?: number;
  tfjsVocMAP?: number;
  /**
   * With verify, a detection run: the export's decoded detections matched with tfjs' (same class, IoU ≥ 0.99),
   * `compareDetections` of @netaug/detection.
   */
  detections?: import('@netaug/detection').DetectionAgreement;
  top1Agreement?: number;
  top1?: number;
  tfjsTop1?: number;
  verifiedImages?: number;
  cHeader?: string;
}

const FILE = EXPORT_FORMAT_FILES;

/** Exports a run's tiny model (model.nair) to one format; optionally verifies it in its runtime on real images. */
export async function exportRun(o: ExportRunOptions): Promise<ExportRunResult> {
  if (o.cHeader && !o.format.startsWith('tflite')) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `--c-header is for TFLite-Micro: use --format tflite or tflite-int8, not ${o.format}`,
    );
  }
  const run = readRunFolder(o.run);
  const ex = await import('@netaug/exporters');
  const needData = o.format === 'tflite-int8' || !!o.verify;
  const detect = isDetectRun(run);
  const detectData = needData && detect ? await loadDetectEvalData(run) : null;
  const evalData = needData && !detect ? await loadRunEvalData(run) : null;
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, FILE[o.format]);
  let written;
  if (o.format === 'tflite-int8') {
    const images = detectData
      ? await detectData.trainImages(o.calibration)
      : (await evalData!.images(evalData!.train, o.calibration)).images;
    written = await ex.exportModel(run.ir, {
      format: 'tflite-int8',
      out: file,
      quantize: { calibration: images, weightGranularity: o.int8Weights ?? 'auto' },
    });
  } else if (o.format === 'tfjs') {
    written = await ex.exportModel(run.ir, { format: 'tfjs', out: o.out, foldBN: o.foldBn });
  } else if (o.format === 'onnx') {
    written = await ex.exportModel(run.ir, { format: 'onnx', out: file, foldBN: o.foldBn });
  } else {
    written = await ex.exportModel(run.ir, { format: 'tflite', out: file });
  }
  const p = profile(run.ir);
  const d = deployFigures(run.ir);
  const result: ExportRunResult = {
    format: o.format,
    file,
    files: written.files,
    bytes: written.bytes,
    params: p.params,
    macs: p.macs,
    peakActivationBytes:
      o.format === 'tflite-int8' ? d.peakActivationBytes.int8 : d.peakActivationBytes.float32,
  };
  // what the model expects as input, so that the exported file alone can be used (`netaug predict --model`)
  const pre = join(o.out, 'preprocessing.json');
  const { writeFileAtomic } = await import('@netaug/exporters');
  const preprocessing = detect
    ? {
        ...runPreprocessing(run),
        // detection: letterbox (fill 0.5) to the input, [0, 1] pixels, one raw output per level
        resize: 'letterbox',
        letterboxFill: 0.5,
        task: 'detect',
        strides: JSON.parse(String(run.ir.metadata?.strides)),
        outputs: run.ir.outputs,
        outputLayout: run.ir.metadata?.outputLayout,
      }
    : runPreprocessing(run);
  await writeFileAtomic(pre, JSON.stringify({ ...preprocessing, model: basename(file) }, null, 2) + '\n');
  result.files.push(pre);
  if (o.cHeader) {
    const header = join(o.out, 'model_data.h');
    await ex.writeFileAtomic(header, ex.toCHeader(new Uint8Array(readFileSync(file)), 'model_data'));
    result.cHeader = header;
  }
  if (o.verify)
    Object.assign(
      result,
      detectData
        ? await verifyDetectExport(o, run, detectData, file)
        : await verifyExport(o, run, evalData!, file),
    );
  return result;
}

/**
 * A detection run's export in its runtime on the first `verify` test images against the tfjs model of its ModelIR:
 * the largest difference over every raw output, the VOC mAP@0.5 of both, decoded the same way, and how many of the
 * decoded detections are the same (same class, IoU ≥ 0.99).
 */
async function verifyDetectExport(
  o: ExportRunOptions,
  run: ReturnType<typeof readRunFolder>,
  d: DetectEvalData,
  file: string,
): Promise<Partial<ExportRunResult>> {
  await setupBackend((process.env.NETAUG_BACKEND as 'cpu' | undefined) ?? 'auto');
  const tf = await import('@tensorflow/tfjs-core');
  const ex = await import('@netaug/exporters');
  const detection = await import('@netaug/detection');
  const { decodeRaw } = await import('@netaug/detector');
  const { buildTfModel } = await import('@netaug/supernet');
  const n = Math.min(o.verify!, d.test.samples.length);
  const images = d.test.samples.slice(0, n).map((s) => s.image);
  const [h, w, c] = run.data.inputShape;
  const model = buildTfModel(run.ir);
  const reference: Float32Array[][] = [];
  try {
    for (let i = 0; i < n; i += 32) {
      const chunk = images.slice(i, i + 32);
      const buf = new Float32Array(chunk.length * h * w * c);
      chunk.forEach((x, k) => buf.set(x, k * h * w * c));
      const outs = tf.tidy(() =>
        model
          .predictOutputs(tf.tensor4d(buf, [chunk.length, h, w, c]))
          .map((t) => t.dataSync() as Float32Array),
      );
      for (let j = 0; j < chunk.length; j++)
        reference.push(
          outs.map((f) => f.slice((j * f.length) / chunk.length, ((j + 1) * f.length) / chunk.length)),
        );
    }
  } finally {
    model.dispose();
  }
  const r =
    o.format === 'onnx'
      ? await ex.verifyOnnx(file, images)
      : o.format === 'tfjs'
        ? await ex.verifyTfjs(o.out, images)
        : await ex.verifyTflite(file, images);
  let maxAbsDiff = 0;
  r.allOutputs.forEach((outs, i) =>
    outs.forEach((y, l) => {
      for (let k = 0; k < y.length; k++)
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(y[k] - reference[i][l][k]));
    }),
  );
  const C = run.ir.numClasses;
  const decode = (raws: ArrayLike<number>[][]) =>
    raws.map((outs, i) => decodeRaw(outs, d.levels, C, { letterbox: d.test.letterbox[i] ?? undefined }));
  const gts = images.map((_, i) => d.loader.groundTruth(i));
  const map = (dets: ReturnType<typeof decode>) =>
    detection.evaluateVoc(gts, dets, { numClasses: C }).mAP ?? 0;
  const mine = decode(r.allOutputs);
  const theirs = decode(reference);
  return {
    maxAbsDiff,
    vocMAP: map(mine),
    tfjsVocMAP: map(theirs),
    detections: detection.compareDetections(theirs, mine, { iouThreshold: 0.99 }),
    verifiedImages: n,
  };
}

async function verifyExport(
  o: ExportRunOptions,
  run: ReturnType<typeof readRunFolder>,
  d: NonNullable<Awaited<ReturnType<typeof loadRunEvalData>>>,
  file: string,
): Promise<Partial<ExportRunResult>> {
  await setupBackend((process.env.NETAUG_BACKEND as 'cpu' | undefined) ?? 'auto');
  const tf = await import('@tensorflow/tfjs-core');
  const ex = await import('@netaug/exporters');
  const { buildTfModel } = await import('@netaug/supernet');
  const { images, labels } = await d.images(d.test, o.verify!);
  const [h, w, c] = run.data.inputShape;
  const model = buildTfModel(run.ir);
  const reference: Float32Array[] = [];
  try {
    for (let i = 0; i < images.length; i += 256) {
      const chunk = images.slice(i, i + 256);
      const buf = new Float32Array(chunk.length * h * w * c);
      chunk.forEach((x, k) => buf.set(x, k * h * w * c));
      const out = tf.tidy(
        () => model.predict(tf.tensor4d(buf, [chunk.length, h, w, c])).dataSync() as Float32Array,
      );
      const k = out.length / chunk.length;
      for (let j = 0; j < chunk.length; j++) reference.push(out.slice(j * k, (j + 1) * k));
    }
  } finally {
    model.dispose();
  }
  const r =
    o.format === 'onnx'
      ? await ex.verifyOnnx(file, images)
      : o.format === 'tfjs'
        ? await ex.verifyTfjs(o.out, images)
        : await ex.verifyTflite(file, images);
  let maxAbsDiff = 0;
  let agree = 0;
  let correct = 0;
  let refCorrect = 0;
  r.outputs.forEach((y, i) => {
    const ref = reference[i];
    for (let k = 0; k < ref.length; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(y[k] - ref[k]));
    const a = ex.argmax(y);
    const b = ex.argmax(ref);
    if (a === b) agree++;
    if (a === labels[i]) correct++;
    if (b === labels[i]) refCorrect++;
  });
  const n = r.outputs.length;
  return {
    maxAbsDiff,
    top1Agreement: agree / n,
    top1: correct / n,
    tfjsTop1: refCorrect / n,
    verifiedImages: n,
  };
}
