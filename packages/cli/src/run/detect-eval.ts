import { NetAugError, type ModelIR } from '@netaug/core';
import type { DetectionLoader, Level, PreparedImages } from '@netaug/detector';
import { setupBackend } from './backend';
import { loadDetectRunData } from './detect-data';
import type { RunFolder } from './read-run';

/** True for the run folder of a detection run (`task: detect`). */
export function isDetectRun(run: RunFolder): boolean {
  return run.config.task === 'detect';
}

/** The strides of a detector's ModelIR (`metadata.strides`, written by `Detector.extract()`). */
export function irStrides(ir: ModelIR, where: string): number[] {
  const raw = ir.metadata?.strides;
  let strides: unknown;
  try {
    strides = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    strides = undefined;
  }
  if (!Array.isArray(strides) || !strides.every((s) => Number.isInteger(s) && s > 0))
    throw new NetAugError('RUN_FOLDER', `${where}: the model has no detector strides (metadata.strides)`, {
      hint: 'the model.nair was not written by a detection run; train it again with --task detect',
    });
  return strides as number[];
}

/** The test (and on request training) images of a detection run, letterboxed to its input size. */
export interface DetectEvalData {
  test: PreparedImages;
  loader: DetectionLoader;
  levels: Level[];
  classNames: string[];
  source: string;
  /** The first `n` training images (letterboxed), for int8 calibration. */
  trainImages(n: number): Promise<Float32Array[]>;
}

/**
 * The data a finished detection run is evaluated on: its test split (or other detection data with the same classes:
 * `data`), letterboxed to the run's input size, in an evaluation loader.
 */
export async function loadDetectEvalData(
  run: RunFolder,
  o: { data?: string; testSubset?: number } = {},
): Promise<DetectEvalData> {
  const detector = await import('@netaug/detector');
  const [h, w, c] = run.data.inputShape;
  const other = o.data !== undefined && o.data !== run.config.data;
  const d = await loadDetectRunData({
    ...run.config,
    ...(other ? { subset: undefined, valSplit: undefined } : {}),
    data: o.data ?? run.config.data,
    testSubset: o.testSubset ?? (other ? undefined : run.config.testSubset),
    resolution: h,
    channels: c as 1 | 3,
  });
  const want = run.data.classNames;
  if (want.join('\n') !== d.classNames.join('\n'))
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `the detector of ${run.dir} detects ${want.length} classes (${want.slice(0, 5).join(', ')}${want.length > 5 ? ', …' : ''}); ` +
        `${o.data ?? run.config.data} has ${d.classNames.length} (${d.classNames.slice(0, 5).join(', ')}${d.classNames.length > 5 ? ', …' : ''})`,
      { hint: 'evaluate on detection data with the same classes in the same order' },
    );
  const test = await detector.prepareImages(d.test, h, w);
  const levels = detector.levelLayout(h, w, irStrides(run.ir, run.dir));
  return {
    test,
    loader: new detector.DetectionLoader(test, d.classNames, { batchSize: 32, shuffle: false }),
    levels,
    classNames: d.classNames,
    source: d.source,
    async trainImages(n) {
      const pick = {
        size: Math.min(n, d.train.size),
        classNames: d.train.classNames,
        get: (i: number) => d.train.get(i),
        ...(d.train.annotation ? { annotation: (i: number) => d.train.annotation!(i) } : {}),
      };
      return (await detector.prepareImages(pick, h, w)).samples.map((s) => s.image);
    },
  };
}

/** What `netaug eval` measured on a detection run. */
export interface DetectEvalResult {
  task: 'detect';
  vocMAP: number;
  cocoMAP: number;
  cocoAP50: number;
  cocoAP75: number;
  count: number;
  bnReestimated: boolean;
  data: string;
  run: string;
  backend: string;
}

/**
 * Evaluates a detection run's model.nair (the supernet's IR executor, eval mode) on its test data (or other data):
 * decoding and VOC / COCO mAP as at training time (`evaluateOutputs` of `@netaug/detector`).
 */
export async function evaluateDetectRun(
  run: RunFolder,
  o: { data?: string; testSubset?: number; backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu'; run: string },
): Promise<DetectEvalResult> {
  const backend = await setupBackend(
    o.backend ?? (process.env.NETAUG_BACKEND as 'cpu' | undefined) ?? 'auto',
  );
  const { evaluateOutputs } = await import('@netaug/detector');
  const { buildTfModel } = await import('@netaug/supernet');
  const d = await loadDetectEvalData(run, o);
  const model = buildTfModel(run.ir);
  try {
    const { metrics } = await evaluateOutputs(
      (x) => model.predictOutputs(x),
      d.loader,
      d.levels,
      run.ir.numClasses,
    );
    return {
      task: 'detect',
      vocMAP: metrics.vocMAP,
      cocoMAP: metrics.cocoMAP,
      cocoAP50: metrics.cocoAP50,
      cocoAP75: metrics.cocoAP75,
      count: metrics.count,
      bnReestimated: run.ir.metadata?.bnReestimated !== false,
      data: d.source,
      run: o.run,
      backend: backend.name,
    };
  } finally {
    model.dispose();
  }
}
