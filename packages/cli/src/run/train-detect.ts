import { readFileSync } from 'node:fs';
import type { RunConfig } from './run-config';
import { loadUserModels } from './user-models';
import { commonTrainerOptions } from './trainer-options';
import { loadDetectRunData } from './detect-data';
import { canonicalRun, type RunEnvironment } from './run-hash';
import type { TrainRunOptions, TrainRunResult } from './train-run';

/**
 * Trains a detection run (`task: detect`) in a claimed, locked run folder: the FCOS-style detector of
 * `@netaug/detector` on the `model` backbone (`createDetector`; the baseline holds only the tiny detector's
 * weights), `detectionTask` in the classification `Trainer` — so the run folder, checkpoints, exact resume, BN
 * re-estimation, best-epoch selection (on `val.vocMAP`), progress and TensorBoard are the classification run's.
 * Images are letterboxed to `resolution × resolution` and not normalised (the detector takes [0, 1] pixels).
 */
export async function trainDetectLocked(
  cfg: RunConfig,
  options: TrainRunOptions,
  log: (line: string) => void,
  backendName: string,
  env: RunEnvironment,
  hash: string,
): Promise<TrainRunResult> {
  const trainer = await import('@netaug/trainer');
  const detector = await import('@netaug/detector');
  const d = await loadDetectRunData(cfg);
  const size = d.resolution;
  const [train, val, test] = await Promise.all([
    detector.prepareImages(d.train, size, size),
    d.val ? detector.prepareImages(d.val, size, size) : undefined,
    detector.prepareImages(d.test, size, size),
  ]);
  const closers: (() => unknown)[] = [];
  try {
    await loadUserModels(cfg);
    const netaug = cfg.strategy === 'netaug';
    const det = detector.createDetector({
      backbone: cfg.model,
      numClasses: d.classNames.length,
      inputShape: train.shape,
      width: cfg.width,
      widthMults: cfg.widthMults,
      expandFactors: cfg.expandFactors,
      neckChannels: cfg.neckChannels,
      headChannels: cfg.headChannels,
      headDepth: cfg.headDepth,
      seed: cfg.seed,
      // the baseline trains the tiny detector alone (initialised as in the NetAug run of this seed)
      tinyOnly: !netaug,
    });
    closers.push(() => det.dispose());
    const trainLoader = new detector.DetectionLoader(train, d.classNames, {
      batchSize: cfg.batch,
      seed: cfg.seed,
      flip: cfg.augment === 'flip',
    });
    const evalLoader = (images: typeof train) =>
      new detector.DetectionLoader(images, d.classNames, {
        batchSize: Math.max(cfg.batch, 32),
        shuffle: false,
      });
    log(
      `netaug: ${cfg.strategy} training of the ${cfg.model} detector (${det.levels.map((l) => `stride ${l.stride}`).join(', ')}) ` +
        `on ${d.train.size} images (${d.source}), letterboxed to ${train.shape.join('×')}, ${cfg.epochs} epochs × ` +
        `${trainLoader.batchesPerEpoch} steps, backend ${backendName}` +
        (env.threads && backendName === 'native' ? ` (${env.threads} threads)` : '') +
        (val ? `, ${val.samples.length} validation images (select ${cfg.select})` : ', no validation split'),
    );
    const t = new trainer.Trainer({
      supernet: det,
      task: detector.detectionTask({
        netaug: netaug ? { epochs: cfg.epochs, alpha: cfg.alpha, stopWidthEpoch: cfg.stopWidthEpoch } : null,
      }),
      trainLoader,
      valLoader: val ? evalLoader(val) : undefined,
      testLoader: evalLoader(test),
      ...commonTrainerOptions(cfg, options, trainer),
      monitor: 'val.vocMAP',
      sortChannels: netaug ? cfg.sortChannels : 'none',
      bnReestimation: { images: Math.min(cfg.bnImages, train.samples.length) },
      meta: {
        run: cfg,
        data: {
          task: 'detect',
          source: d.source,
          classNames: d.classNames,
          inputShape: train.shape,
          // the detector takes [0, 1] pixels, letterboxed (fill 0.5): no normalisation
          mean: new Array<number>(train.shape[2]).fill(0),
          std: new Array<number>(train.shape[2]).fill(1),
          letterbox: true,
          strides: det.strides,
          train: train.samples.length,
          ...(val ? { val: val.samples.length } : {}),
          test: test.samples.length,
        },
        backend: backendName,
        ...(cfg.modelSpec ? { modelSpec: readFileSync(cfg.modelSpec, 'utf8') } : {}),
        hash,
        canonical: canonicalRun(cfg, env),
      },
    });
    closers.push(() => t.dispose());
    const summary = await t.fit({ epochs: cfg.epochs, resume: options.resume ?? false });
    return { summary, hash, backend: backendName, dataSource: d.source, runDir: cfg.out };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}
