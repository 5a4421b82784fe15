import type { TrainSummary } from '@netaug/trainer';
import { setupBackend } from './backend';
import { loadRunData } from './build-data';
import type { RunConfig } from './run-config';
import { runTransforms } from './transforms';
import { activationFloatsPerImage, decideRecompute } from './recompute-policy';
import type { MobileNetSupernet } from '@netaug/supernet';

/** Gradient checkpointing on or off for this run (see {@link decideRecompute}). */
function recomputeFor(cfg: RunConfig, supernet: MobileNetSupernet) {
  const floats = (mode: 'min' | 'max') => {
    supernet.setActive(mode);
    return activationFloatsPerImage(supernet.extract());
  };
  const netaug = cfg.strategy === 'netaug';
  const est = {
    tinyFloatsPerImage: floats('min'),
    augFloatsPerImage: netaug ? floats('max') : 0,
    batch: cfg.batch,
    netaug,
  };
  supernet.setActive('min');
  return decideRecompute(cfg.recompute, est);
}

export interface TrainRunOptions {
  resume?: boolean;
  /** Progress as plain lines (default: a progress bar that also works without a TTY). */
  plainProgress?: boolean;
  /** No progress output at all. */
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface TrainRunResult {
  summary: TrainSummary;
  backend: string;
  dataSource: string;
  runDir: string;
}

/** Trains one run end to end: backend, data, supernet, strategies, trainer; writes the run folder `cfg.out`. */
export async function trainRun(cfg: RunConfig, options: TrainRunOptions = {}): Promise<TrainRunResult> {
  const log = options.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const backend = await setupBackend(cfg.backend);
  const data = await import('@netaug/data');
  const trainer = await import('@netaug/trainer');
  const { createSupernet } = await import('@netaug/supernet');

  const d = await loadRunData(cfg);
  const t = runTransforms(data, cfg, d);
  const trainLoader = data.createLoader(d.train, {
    batchSize: cfg.batch,
    seed: cfg.seed,
    transform: t.train,
  });
  const valLoader = data.createLoader(d.test, {
    batchSize: Math.max(cfg.batch, 256),
    shuffle: false,
    transform: t.test,
  });
  const supernet = createSupernet(cfg.model, {
    numClasses: d.classNames.length,
    inputShape: d.inputShape,
    width: cfg.width,
    smallInput: cfg.smallInput,
    widthMults: cfg.widthMults,
    expandFactors: cfg.expandFactors,
    seed: cfg.seed,
    // the baseline trains the tiny model alone: only its weights (initialised as in the NetAug run of this seed)
    tinyOnly: cfg.strategy === 'baseline',
  });
  const memory = recomputeFor(cfg, supernet);
  log(
    `netaug: ${cfg.strategy} training of ${cfg.model} on ${d.train.size} images (${d.source}), input ${d.inputShape.join('×')}, ` +
      `${cfg.epochs} epochs × ${trainLoader.batchesPerEpoch} steps, backend ${backend.name}` +
      (memory.recompute ? `, recomputing activations (${memory.reason})` : ''),
  );
  const strategies = [
    ...(cfg.strategy === 'netaug'
      ? [
          trainer.netaug({
            epochs: cfg.epochs,
            widthMults: supernet.space.widthMults,
            expandFactors: supernet.space.expandFactors,
            alpha: cfg.alpha,
            stopWidthEpoch: cfg.stopWidthEpoch,
          }),
        ]
      : [trainer.baseline()]),
    ...(cfg.labelSmoothing > 0 ? [trainer.labelSmoothing(cfg.labelSmoothing)] : []),
  ];
  const callbacks = options.quiet ? [] : [trainer.progress({ plain: options.plainProgress })];
  const t0 = new trainer.Trainer({
    supernet,
    trainLoader,
    valLoader,
    optimizer:
      cfg.optimizer === 'sgd'
        ? { type: 'sgd', momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay }
        : { type: cfg.optimizer, weightDecay: cfg.weightDecay },
    lrSchedule: { type: 'cosine', baseLr: cfg.lr, warmupEpochs: Math.round(cfg.warmupEpochs) },
    strategies,
    callbacks,
    runDir: cfg.out,
    seed: cfg.seed,
    sortChannels: cfg.strategy === 'netaug' ? cfg.sortChannels : 'none',
    recompute: memory.recompute,
    bnReestimation: { images: Math.min(cfg.bnImages, d.train.size) },
    meta: {
      run: cfg,
      data: {
        source: d.source,
        classNames: d.classNames,
        inputShape: d.inputShape,
        mean: d.mean,
        std: d.std,
        train: d.train.size,
        test: d.test.size,
      },
      backend: backend.name,
      recompute: memory,
    },
  });
  try {
    const summary = await t0.fit({ epochs: cfg.epochs, resume: options.resume ? 'auto' : false });
    return { summary, backend: backend.name, dataSource: d.source, runDir: cfg.out };
  } finally {
    await trainLoader.close();
    await valLoader.close();
    supernet.dispose();
  }
}
