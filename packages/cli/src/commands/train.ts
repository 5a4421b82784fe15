import type { Command } from 'commander';
import { BACKEND_NAMES, orList } from '@netaug/core';
import { resolveRunConfig } from '../run/load-config';
import { PRESETS } from '../run/presets';
import type { RunConfigInput } from '../run/run-config';
import type { Output } from '../output';
import { parseNumberList, parsePositiveInt, parsePositiveNumber } from '../parse';
import { UsageError } from '../errors';
import type { TaskMetrics, TrainSummary } from '@netaug/trainer';

interface TrainFlags extends Partial<Omit<RunConfigInput, 'channels'>> {
  preset?: string;
  config?: string;
  resume?: boolean;
  overwrite?: boolean;
  tensorboard?: boolean;
  expectHash?: string;
  plugin?: string[];
  json?: boolean;
  plain?: boolean;
  quiet?: boolean;
  channels?: number;
}

export const nonNegative = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number ≥ 0, got '${v}'`);
  return n;
};
export const nonNegativeInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be an integer ≥ 0, got '${v}'`);
  return n;
};
export const integer = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be an integer, got '${v}'`);
  return n;
};

/**
 * The options of a run config (everything but strategy, seed, out folder and output style), shared by `train`
 * and `compare`.
 */
/** `--neck-channels`, `--head-channels`, `--head-depth`: the tiny detector's neck and head (`--task detect`). */
export function addDetectorHeadOptions(cmd: Command): Command {
  return cmd
    .option(
      '--neck-channels <n>',
      "--task detect: the tiny detector's neck width (FPN-lite laterals; default 32; NetAug widens it too)",
      parsePositiveInt('--neck-channels'),
    )
    .option(
      '--head-channels <n>',
      "--task detect: the tiny detector's head tower width (default: the neck's)",
      parsePositiveInt('--head-channels'),
    )
    .option(
      '--head-depth <n>',
      '--task detect: depthwise-separable layers of the shared head tower (default 2)',
      nonNegativeInt('--head-depth'),
    );
}

export function addRunOptions(cmd: Command): Command {
  return addDetectorHeadOptions(
    cmd
      .option('--preset <name>', `start from a preset: ${Object.keys(PRESETS).join(', ')}`)
      .option('--config <file>', 'YAML or JSON file with the same keys as the flags (camelCase)')
      .option(
        '--task <task>',
        'classify (default) or detect: an FCOS-style detector on the --model backbone (data: scenes, coco:<json>[,<json>], voc:<dir>, yolo:<dir>)',
      )
      .option(
        '--model <name>',
        'zoo model (netaug models); with --task detect the backbone (default mobilenetv2-tiny)',
      ),
  )
    .option(
      '--model-spec <file>',
      'a model spec (YAML/JSON: stem, blocks with their type, head, classifier) instead of a zoo model',
    )
    .option(
      '--plugin <module>',
      'a JavaScript module that registers block types (registerBlock); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--width <w>', 'width multiplier of the tiny model', parsePositiveNumber('--width'))
    .option('--small-input', 'small-input form (8× downsampling) for 28–64 px images')
    .option('--width-mults <list>', 'augmentation width multipliers', parseNumberList('--width-mults'))
    .option('--expand-factors <list>', 'augmentation expand factors', parseNumberList('--expand-factors'))
    .option(
      '--data <name|path>',
      'fashion-mnist, mnist, or a path (IDX/CIFAR folder, image folder, CSV/JSON manifest); with --task detect: scenes (default), coco:<json>[,<test json>], voc:<dir> or yolo:<dir>',
    )
    .option('--data-dir <dir>', 'where to look first for fashion-mnist / mnist')
    .option(
      '--only-classes <list>',
      'keep only these classes (names or indices, comma list), relabelled 0…k−1 in this order',
      (v: string) => v.split(',').map((c) => (/^\d+$/.test(c.trim()) ? Number(c) : c.trim())),
    )
    .option('--subset <n>', 'train on a class-balanced subset of n images', parsePositiveInt('--subset'))
    .option(
      '--init <path>',
      'start from trained weights: a run folder, a model.nair or a model.onnx of the same architecture (the classifier is kept when the classes match, new otherwise)',
    )
    .option('--new-head', 'with --init: a new classifier even when its size matches')
    .option(
      '--allow-padding-mismatch',
      "with --init model.onnx: import convolutions padded otherwise than SAME (PyTorch's stride-2 padding at even sizes; outputs shift by a pixel until fine-tuned)",
    )
    .option(
      '--freeze-until <k>',
      'with --init: freeze the layer units before index k (0 = nothing; units in order: stem, blocks.0…, head, classifier; a wrong k lists them)',
      nonNegative('--freeze-until'),
    )
    .option(
      '--bn <mode>',
      'with --init, batch norm while fine-tuning: train (default), keep (the loaded statistics, never changed) or reestimate (once on the training images, then kept); keep/reestimate with --strategy baseline',
    )
    .option(
      '--val-split <n>',
      'hold out n training images (class-balanced, the same for every seed) as the validation split; the best epoch is chosen on it and the test data is read once, at the end',
      parsePositiveInt('--val-split'),
    )
    .option('--select <rule>', 'the model the run ends with: best-val (default with --val-split) or last')
    .option(
      '--test-subset <n>',
      'evaluate on a class-balanced subset of n test images',
      parsePositiveInt('--test-subset'),
    )
    .option('--skip-corrupt', 'skip unreadable images (warned and counted) instead of failing')
    .option('--resolution <px>', 'input resolution (images are resized)', parsePositiveInt('--resolution'))
    .option('--channels <n>', 'input channels, 1 or 3', parsePositiveInt('--channels'))
    .option('--augment <kind>', 'none, flip, crop-flip or rrc-flip')
    .option('--alpha <a>', 'weight of the augmented model loss', parsePositiveNumber('--alpha'))
    .option(
      '--stop-width-epoch <e>',
      'epoch at which width augmentation stops (default: half)',
      nonNegative('--stop-width-epoch'),
    )
    .option('--epochs <n>', 'epochs', parsePositiveInt('--epochs'))
    .option('--batch <n>', 'batch size', parsePositiveInt('--batch'))
    .option('--optimizer <name>', 'sgd, adam or adamw')
    .option(
      '--lr <lr>',
      'peak learning rate (cosine schedule after linear warm-up; default 0.1, or 0.01 when fine-tuning from --init)',
      parsePositiveNumber('--lr'),
    )
    .option('--warmup-epochs <n>', 'linear warm-up epochs', nonNegative('--warmup-epochs'))
    .option('--weight-decay <wd>', 'weight decay (not on BN and bias)', nonNegative('--weight-decay'))
    .option('--label-smoothing <e>', 'label smoothing', nonNegative('--label-smoothing'))
    .option('--bn-images <n>', 'training images for BN re-estimation', parsePositiveInt('--bn-images'))
    .option(
      '--checkpoint-every <n>',
      'write the checkpoint every n epochs (default 1; always after the last): an interruption trains at most n epochs again',
      parsePositiveInt('--checkpoint-every'),
    )
    .option(
      '--diverge-factor <k>',
      "stop when the tiny model's loss exceeds k × its first-epoch mean (default 10; 0: never)",
      nonNegative('--diverge-factor'),
    )
    .option('--sort-channels <mode>', 'none, weights-only (authors’ code) or weights-and-slots')
    .option('--backend <name>', `${orList(['auto', ...BACKEND_NAMES])} (also NETAUG_BACKEND)`)
    .option(
      '--native-threads <n>',
      'threads of the native backend (default: env NETAUG_THREADS, else every core)',
      parsePositiveInt('--native-threads'),
    )
    .option(
      '--recompute',
      'gradient checkpointing: recompute activations in backward (less memory, ~1.3× compute; default auto: on when a step would keep > 2 GiB of activations)',
    )
    .option('--no-recompute', 'never recompute activations');
}

export function registerTrain(program: Command, io: Output): void {
  addRunOptions(
    program
      .command('train')
      .description('Train a tiny model with NetAug (or the baseline) and write a run folder'),
  )
    .option('--strategy <name>', 'netaug or baseline')
    .option('--seed <n>', 'seed', integer('--seed'))
    .option('--out <dir>', 'run folder')
    .option(
      '--resume',
      'continue the interrupted run in --out from its last checkpoint (refused if its config differs)',
    )
    .option('--overwrite', 'replace the run in --out (a finished run, or one of another config)')
    .option(
      '--expect-hash <hash>',
      'refuse to train unless the run’s canonical config hash is this (netaug study uses it)',
    )
    .option('--plain', 'progress as plain lines')
    .option('--quiet', 'no progress output')
    .option(
      '--tensorboard',
      'also write TensorBoard event files to <out>/tensorboard (per-step and per-epoch scalars)',
    )
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ netaug train --preset fmnist-tiny --strategy netaug --out runs/netaug
  $ netaug train --model mobilenetv2-tiny --small-input --data fashion-mnist --strategy netaug --epochs 10 --batch 128 --lr 0.1 --seed 0 --out runs/x
  $ netaug train --config run.yaml --resume
  $ netaug train --preset imagenet-mbv2-tiny --data /data/imagenet --out runs/imagenet
  $ netaug train --task detect --resolution 96 --epochs 30 --val-split 20 --out runs/detect
  $ netaug train --task detect --data coco:train.json,val.json --resolution 320 --epochs 50 --out runs/coco`,
    )
    .action(async (flags: TrainFlags, cmd: Command) => {
      const {
        preset,
        config,
        resume,
        overwrite,
        json,
        plain,
        quiet,
        tensorboard,
        expectHash,
        plugin,
        ...rest
      } = flags;
      const argv = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
      if (argv.includes('--recompute') && argv.includes('--no-recompute'))
        throw new UsageError('--recompute and --no-recompute contradict each other: give one');
      if (resume && overwrite)
        throw new UsageError('--resume and --overwrite contradict each other: give one');
      const cfg = resolveRunConfig({
        strict: true,
        preset,
        configFile: config,
        flags: {
          ...(rest as Partial<RunConfigInput>),
          ...(plugin ? { plugins: plugin } : {}),
          backend: rest.backend ?? (process.env.NETAUG_BACKEND as RunConfigInput['backend']),
        },
      });
      const { trainRun } = await import('../run/train-run');
      const r = await trainRun(cfg, {
        resume,
        overwrite,
        expectHash,
        plainProgress: plain,
        quiet,
        tensorboard,
        log: (s) => io.err(s + '\n'),
      });
      if (json) {
        io.out(
          JSON.stringify(
            { runDir: r.runDir, backend: r.backend, data: r.dataSource, ...r.summary },
            null,
            2,
          ) + '\n',
        );
        return;
      }
      const line =
        cfg.task === 'detect'
          ? describeDetectFinal(cfg.strategy, cfg.model, r.summary)
          : describeFinal(cfg.strategy, cfg.model, r.summary);
      io.out(line + ` → ${r.runDir}\n`);
    });
}

const pct = (x?: number) => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);
const fig = (x?: number) => (x === undefined ? '-' : x.toFixed(4));
/** A detection run's figures (`vocMAP`, `cocoMAP`, …). */
const task = (m: unknown) => m as TaskMetrics | undefined;

/** One line on how a detection run ended: test VOC / COCO mAP of the selected tiny detector, which epoch. */
export function describeDetectFinal(strategy: string, model: string, s: TrainSummary): string {
  const f = s.final;
  if (!f)
    return `${strategy} ${model} detector: ${s.epochs} epochs in ${s.seconds.toFixed(0)} s, nothing evaluated`;
  const which =
    f.selected.rule === 'best-val'
      ? `model of epoch ${f.selected.epoch + 1} (best validation VOC mAP)`
      : `model of the last epoch (${f.selected.epoch + 1})`;
  return (
    `${strategy} ${model} detector: test VOC mAP@0.5 ${fig(task(f.test)?.vocMAP)}, COCO mAP ${fig(task(f.test)?.cocoMAP)}, ${which}` +
    (f.val ? `; validation VOC mAP@0.5 ${fig(task(f.val)?.vocMAP)}` : '') +
    `; ${s.epochs} epochs in ${s.seconds.toFixed(0)} s`
  );
}

/** One line on how a run ended: test top-1 of the selected model, which epoch and why, validation figures. */
export function describeFinal(strategy: string, model: string, s: TrainSummary): string {
  const f = s.final;
  if (!f) return `${strategy} ${model}: ${s.epochs} epochs in ${s.seconds.toFixed(0)} s, nothing evaluated`;
  const which =
    f.selected.rule === 'best-val'
      ? `model of epoch ${f.selected.epoch + 1} (best validation top-1)`
      : `model of the last epoch (${f.selected.epoch + 1})`;
  return (
    `${strategy} ${model}: test top-1 ${pct(f.test?.top1)}, ${which}` +
    (f.val ? `; validation top-1 ${pct(f.val.top1)}` : '') +
    (f.sharedStats ? `, ${pct(f.sharedStats.top1)} with shared BN statistics` : '') +
    `; ${s.epochs} epochs in ${s.seconds.toFixed(0)} s`
  );
}
