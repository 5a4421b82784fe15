import type { TrainSummary } from '@netaug/trainer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { acquireRunLock, checkWritable, claimRunFolder } from './run-folder';
import { loadUserModels } from './user-models';
import { commonTrainerOptions } from './trainer-options';
import { setupBackend } from './backend';
import { loadRunData } from './build-data';
import type { RunConfig } from './run-config';
import { runTransforms } from './transforms';
import { initFromWeights, type InitResult } from './init';
import { activationFloatsPerImage, decideRecompute } from './recompute-policy';
import type { MobileNetSupernet } from '@netaug/supernet';
import {
  canonicalRun,
  resolveDataIdentity,
  nativeThreadsFor,
  runHash,
  type RunEnvironment,
} from './run-hash';

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
  /** Continue the interrupted run in the folder (says so, and starts, when there is nothing to resume). */
  resume?: boolean;
  /** Replace the run in the folder (a finished one, or one of another config). */
  overwrite?: boolean;
  /** Refuse to train (RUN_FOLDER) unless the run's canonical hash is this one (the study's check). */
  expectHash?: string;
  /** Progress as plain lines (default: a progress bar that also works without a TTY). */
  plainProgress?: boolean;
  /** No progress output at all. */
  quiet?: boolean;
  /** Write TensorBoard event files to `<out>/tensorboard/` (does not change the result). */
  tensorboard?: boolean;
  log?: (line: string) => void;
}

export interface TrainRunResult {
  summary: TrainSummary;
  /** The run's canonical config hash (see {@link runHash}). */
  hash: string;
  backend: string;
  dataSource: string;
  runDir: string;
}

/** Trains one run end to end: backend, data, supernet, strategies, trainer; writes the run folder `cfg.out`. */
export async function trainRun(cfg: RunConfig, options: TrainRunOptions = {}): Promise<TrainRunResult> {
  const log = options.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const backend = await setupBackend(cfg.backend, cfg.nativeThreads);
  const env: RunEnvironment = {
    backend: backend.name as RunEnvironment['backend'],
    threads:
      backend.name === 'native'
        ? nativeThreadsFor(cfg.nativeThreads)
        : backend.name === 'tensorflow'
          ? null
          : 1,
    data: await resolveDataIdentity(cfg),
  };
  const hash = runHash(cfg, env);
  if (options.expectHash && options.expectHash !== hash) {
    throw new NetAugError(
      'RUN_FOLDER',
      `this run's hash ${hash.slice(0, 10)} is not the expected ${options.expectHash.slice(0, 10)}: ` +
        `here it resolves to backend ${env.backend}, ${env.threads ?? 'default'} threads, data ${env.data}`,
      {
        hint: 'run the study where its cells resolve the same way, or set backend/nativeThreads in the study',
      },
    );
  }
  checkWritable(cfg.out);
  const releaseLock = acquireRunLock(cfg.out);
  try {
    const decision = claimRunFolder(cfg.out, {
      hash,
      canonical: canonicalRun(cfg, env),
      resume: options.resume,
      overwrite: options.overwrite,
      log,
    });
    if (decision.action === 'finished') {
      log(`netaug: ${cfg.out} already holds this run, finished: nothing to do`);
      const summary = JSON.parse(readFileSync(join(cfg.out, 'summary.json'), 'utf8')) as TrainSummary;
      return { summary, hash, backend: backend.name, dataSource: env.data, runDir: cfg.out };
    }
    return await trainLocked(
      cfg,
      { ...options, resume: decision.action === 'resume' },
      log,
      backend.name,
      env,
      hash,
    );
  } finally {
    releaseLock();
  }
}

async function trainLocked(
  cfg: RunConfig,
  options: TrainRunOptions,
  log: (line: string) => void,
  backendName: string,
  env: RunEnvironment,
  hash: string,
): Promise<TrainRunResult> {
  if (cfg.task === 'detect') {
    const { trainDetectLocked } = await import('./train-detect');
    return trainDetectLocked(cfg, options, log, backendName, env, hash);
  }
  const data = await import('@netaug/data');
  const trainer = await import('@netaug/trainer');
  const { createSupernet } = await import('@netaug/supernet');

  const d = await loadRunData(cfg);
  const t = runTransforms(data, cfg, d);
  const backend = { name: backendName };
  // everything opened from here is closed on every path (an error included), so the process can exit
  const closers: (() => unknown)[] = [];
  try {
    const trainLoader = data.createLoader(d.train, {
      batchSize: cfg.batch,
      seed: cfg.seed,
      transform: t.train,
    });
    closers.push(() => trainLoader.close());
    const evalLoader = (ds: typeof d.test) => {
      const l = data.createLoader(ds, {
        batchSize: Math.max(cfg.batch, 256),
        shuffle: false,
        transform: t.test,
      });
      closers.push(() => l.close());
      return l;
    };
    const valLoader = d.val ? evalLoader(d.val) : undefined;
    const testLoader = evalLoader(d.test);
    await loadUserModels(cfg);
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
    closers.push(() => supernet.dispose());
    let init: InitResult | undefined;
    if (cfg.init) {
      init = await initFromWeights(supernet, cfg.init, {
        newHead: cfg.newHead,
        allowPaddingMismatch: cfg.allowPaddingMismatch,
        classNames: d.classNames,
      });
      log(
        `netaug: initialised from ${init.file} (${init.loaded} tensors into the tiny model), ` +
          (init.head === 'new' ? `new classifier (${init.reason})` : 'classifier kept') +
          (cfg.freezeUntil ? `, layer units 0…${cfg.freezeUntil - 1} frozen` : '') +
          (cfg.bn && cfg.bn !== 'train' ? `, batch norm ${cfg.bn}` : ''),
      );
      for (const note of init.notes) log(`netaug: ${note}`);
    }
    const memory = recomputeFor(cfg, supernet);
    log(
      `netaug: ${cfg.strategy} training of ${cfg.model} on ${d.train.size} images (${d.source}), input ${d.inputShape.join('×')}, ` +
        `${cfg.epochs} epochs × ${trainLoader.batchesPerEpoch} steps, backend ${backend.name}` +
        (env.threads && backend.name === 'native' ? ` (${env.threads} threads)` : '') +
        (d.val ? `, ${d.val.size} validation images (select ${cfg.select})` : ', no validation split') +
        (memory.recompute ? `, recomputing activations (${memory.reason})` : ''),
    );
    const warning = lrWarning(cfg.lr, cfg.batch, cfg.optimizer);
    if (warning) log(`netaug: warning: ${warning}`);
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
    const t0 = new trainer.Trainer({
      supernet,
      trainLoader,
      valLoader,
      testLoader,
      ...commonTrainerOptions(cfg, options, trainer),
      strategies,
      sortChannels: cfg.strategy === 'netaug' ? cfg.sortChannels : 'none',
      ...(cfg.freezeUntil ? { freezeUntil: cfg.freezeUntil } : {}),
      ...(cfg.bn ? { batchNorm: cfg.bn } : {}),
      recompute: memory.recompute,
      bnReestimation: { images: Math.min(cfg.bnImages, d.train.size) },
      meta: {
        run: cfg,
        data: {
          source: d.source,
          classNames: d.classNames,
          inputShape: d.inputShape,
          sourceShape: d.train.shape,
          mean: d.mean,
          std: d.std,
          train: d.train.size,
          ...(d.val ? { val: d.val.size } : {}),
          test: d.test.size,
        },
        backend: backend.name,
        // the model a spec file described, as it was: the run folder explains itself if the file changes
        ...(cfg.modelSpec ? { modelSpec: readFileSync(cfg.modelSpec, 'utf8') } : {}),
        ...(init
          ? { init: { file: init.file, head: init.head, reason: init.reason, notes: init.notes } }
          : {}),
        hash,
        canonical: canonicalRun(cfg, env),
        recompute: memory,
      },
    });
    closers.push(() => t0.dispose());
    const summary = await t0.fit({ epochs: cfg.epochs, resume: options.resume ?? false });
    return { summary, hash, backend: backend.name, dataSource: d.source, runDir: cfg.out };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/**
 * A learning rate far above the linear-scaling rule for the batch (the paper: 0.025 per 128 images over 150
 * epochs; short runs here use up to 0.1 per 128) often diverges to chance on small batches: say so, with the
 * scaled value. Undefined when the pair looks reasonable or the optimizer is adaptive.
 */
export function lrWarning(lr: number, batch: number, optimizer: string): string | undefined {
  if (optimizer !== 'sgd') return undefined;
  const per128 = (lr * 128) / batch;
  if (per128 <= 0.2) return undefined;
  const suggested = Number(((0.1 * batch) / 128).toPrecision(2));
  return (
    `lr ${lr} with batch ${batch} is ${per128.toFixed(2)} per 128 images; SGD at that rate often diverges on small ` +
    `batches. The linear scaling rule (lr ∝ batch) gives ${suggested} for 0.1 per 128: pass --lr ${suggested}, or a larger --batch`
  );
}
