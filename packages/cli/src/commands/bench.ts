import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { formatTable, humanCount, type Output } from '../output';
import { parsePositiveInt, parsePositiveNumber, parseShape } from '../parse';
import { BACKEND_NAMES, orList, type Shape3 } from '@netaug/core';
import type { AugConfigMode, BenchStrategy, StepCase, StepRecord } from '../bench/step';

interface StepFlags {
  model?: string;
  width?: number;
  smallInput?: boolean;
  input?: Shape3[];
  batch?: number[];
  strategy: string;
  augConfig: string;
  configs: number;
  warmup: number;
  steps: number;
  backend?: string;
  threads?: number;
  pytorch: boolean;
  classes: number;
  seed: number;
  recompute?: boolean;
  inProcess?: boolean;
  json?: boolean;
}

interface DataFlags {
  images: number;
  workers: string;
  dataDir?: string;
  stepImagesPerSec?: number;
  keep?: boolean;
  json?: boolean;
}

const BACKENDS = ['auto', ...BACKEND_NAMES] as const;

/** The issue's default matrix: both tiny models in small-input form, 28×28×1 and 32×32×3, batch 64 and 128. */
export const DEFAULT_MODELS: { model: string; width?: number }[] = [
  { model: 'mobilenetv2-tiny' },
  { model: 'mobilenetv2', width: 0.35 },
];
export const DEFAULT_INPUTS: Shape3[] = [
  [28, 28, 1],
  [32, 32, 3],
];
export const DEFAULT_BATCHES = [64, 128];

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`${flag} must be a non-negative integer, got '${value}'`);
    return n;
  };
}

/** Repeatable flag whose values may also be comma lists (`--batch 64 --batch 128` or `--batch 64,128`). */
function repeatable<T>(parse: (v: string) => T) {
  return (value: string, prev: T[] | undefined): T[] => [
    ...(prev ?? []),
    ...value
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => parse(s.trim())),
  ];
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** Expands the flags into the list of cases (model × input × batch × strategy). */
export function stepCases(
  flags: Pick<StepFlags, 'model' | 'width' | 'smallInput' | 'input' | 'batch' | 'strategy'>,
): StepCase[] {
  const strategy = oneOf('--strategy', flags.strategy, ['baseline', 'netaug', 'both'] as const);
  const strategies: BenchStrategy[] = strategy === 'both' ? ['baseline', 'netaug'] : [strategy];
  if (flags.width !== undefined && flags.model === undefined) {
    throw new UsageError('--width needs --model (e.g. --model mobilenetv2 --width 0.35)');
  }
  const models = flags.model !== undefined ? [{ model: flags.model, width: flags.width }] : DEFAULT_MODELS;
  // the default matrix is the small-input form; with --model, --small-input says
  const smallInput = flags.model !== undefined ? !!flags.smallInput : true;
  const inputs = flags.input?.length ? flags.input : DEFAULT_INPUTS;
  const batches = flags.batch?.length ? flags.batch : DEFAULT_BATCHES;
  const cases: StepCase[] = [];
  // baseline before NetAug, small batches before large ones: a case that exhausts the wasm heap (or aborts the
  // wasm module) can leave the backend unusable for the rest of the process, so the likeliest failures come last
  for (const s of strategies)
    for (const batch of [...batches].sort((a, b) => a - b))
      for (const m of models)
        for (const input of inputs)
          cases.push({
            model: m.model,
            ...(m.width !== undefined ? { width: m.width } : {}),
            smallInput,
            input,
            batch,
            strategy: s,
          });
  return cases;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '-' : `${Math.round(bytes / 2 ** 20)}`;
}

function stepTable(recs: StepRecord[]): string {
  return formatTable([
    [
      'model',
      'input',
      'batch',
      'strategy',
      'ms/step',
      'p25–p75',
      'img/s',
      'MACs',
      'aug MACs',
      'peak MiB',
      'leaked',
      'torch ms',
      'ratio',
      'MAC-bound',
    ],
    ...recs.map((r) => [
      r.width !== undefined ? `${r.model}@${r.width}` : r.model,
      r.input,
      r.batch,
      r.strategy +
        (r.augConfig ? `(${r.augConfig}${r.augConfig === 'random' ? `×${r.augConfigs}` : ''})` : ''),
      r.error && !Number.isFinite(r.msPerStep) ? 'error' : r.msPerStep,
      Number.isFinite(r.msP25) ? `${r.msP25}–${r.msP75}` : '-',
      Number.isFinite(r.imagesPerSec) ? r.imagesPerSec : '-',
      humanCount(r.tinyMacs),
      r.augMeanMacs !== undefined ? humanCount(r.augMeanMacs) : '-',
      `${mb(r.peakBytes)} (${r.peakBytesKind})`,
      r.leakedTensors,
      r.pytorchMsPerStep ?? '-',
      r.ratio !== undefined ? `${r.ratio}×` : '-',
      r.macBoundRatio !== undefined
        ? `${r.macBoundRatio}${r.pytorchMacBoundRatio !== undefined ? ` (torch ${r.pytorchMacBoundRatio})` : ''}`
        : '-',
    ]),
  ]);
}

export function registerBench(program: Command, io: Output): void {
  const bench = program
    .command('bench')
    .description('Benchmark the training step (vs PyTorch) and the data pipeline');

  bench
    .command('step')
    .description(
      'Median and spread of one full training step (forward, loss, backward, optimizer update), baseline and NetAug, ' +
        'with the same step timed in PyTorch when /usr/bin/python3 can import torch (NetAug: one set of full-size ' +
        "weights sliced to each config, as the authors' code). With both strategies, NetAug's MAC-bound ratio: its " +
        "step time over the baseline's scaled by (tiny + augmented MACs) / tiny MACs",
    )
    .option(
      '--model <name>',
      'zoo model (default: the matrix mobilenetv2-tiny and mobilenetv2 --width 0.35, small input)',
    )
    .option(
      '--width <w>',
      'width multiplier (mobilenetv2, proxylessnas, mobilenetv3)',
      parsePositiveNumber('--width'),
    )
    .option('--small-input', 'small-input form for 28–64 px images (always on in the default matrix)')
    .option(
      '--input <HxWxC>',
      'input shape, repeatable or comma list (default 28x28x1,32x32x3)',
      repeatable(parseShape('--input')),
    )
    .option(
      '--batch <n>',
      'batch size, repeatable or comma list (default 64,128)',
      repeatable(parsePositiveInt('--batch')),
    )
    .option('--strategy <s>', 'baseline, netaug or both', 'both')
    .option(
      '--aug-config <mode>',
      "NetAug's augmented model: random (seeded configs, cycled) or max (the largest)",
      'random',
    )
    .option(
      '--configs <n>',
      'random augmented configs per NetAug case (each timed at least once)',
      parsePositiveInt('--configs'),
      20,
    )
    .option('--warmup <n>', 'untimed steps first', nonNegativeInt('--warmup'), 2)
    .option('--steps <n>', 'timed steps (NetAug random: at least --configs)', parsePositiveInt('--steps'), 10)
    .option('--backend <name>', `${orList(BACKENDS)} (also NETAUG_BACKEND)`)
    .option('--threads <n>', 'PyTorch threads (default: the number of cores)', parsePositiveInt('--threads'))
    .option('--no-pytorch', 'do not time the PyTorch step')
    .option('--classes <n>', 'number of classes', parsePositiveInt('--classes'), 10)
    .option('--seed <n>', 'seed of weights, batch and augmented-config sampling', nonNegativeInt('--seed'), 0)
    .option('--recompute', 'gradient checkpointing in the tfjs step (less memory, more compute)')
    .option(
      '--in-process',
      'measure every case in this process (default: each case in a child process when there are several, so each peak RSS is its own)',
    )
    .option('--json', 'one JSON object per measured case')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug bench step                 # the default matrix\n' +
        '  $ netaug bench step --model mobilenetv2-tiny --small-input --input 28x28x1 --batch 64 --json\n' +
        '  $ netaug bench step --model mobilenetv2-tiny --small-input --input 28x28x1 --batch 128 --strategy netaug --aug-config max --recompute',
    )
    .action(async (flags: StepFlags) => {
      const cases = stepCases(flags);
      const augConfig = oneOf('--aug-config', flags.augConfig, ['random', 'max'] as const) as AugConfigMode;
      const backendName = oneOf('--backend', flags.backend ?? process.env.NETAUG_BACKEND ?? 'auto', BACKENDS);
      const { setupBackend } = await import('../run/backend');
      const { benchStepCase, machineInfo, macBoundFields } = await import('../bench/step');
      const { benchStepInChild } = await import('../bench/isolate');
      const { findTorchScript, probeTorch, defaultPython } = await import('../bench/torch');
      const backend = await setupBackend(backendName);

      let pytorch: { script: string; python: string; threads: number } | null = null;
      let pytorchNote = 'PyTorch: off (--no-pytorch)';
      if (flags.pytorch) {
        const python = defaultPython();
        const probe = probeTorch(python);
        const script = findTorchScript();
        if (!probe.ok) pytorchNote = `PyTorch: not measured (${probe.reason})`;
        else if (!script)
          pytorchNote =
            'PyTorch: not measured (tools/bench/torch_step.py not found; set NETAUG_TORCH_SCRIPT)';
        else {
          pytorch = { script, python, threads: flags.threads ?? availableParallelism() };
          pytorchNote = `PyTorch ${probe.version}, ${pytorch.threads} threads`;
        }
      }
      const m = machineInfo();
      if (!flags.json) {
        io.out(
          `backend ${backend.name} (${backend.reason}); ${m.cores} cores, ${m.cpu}, load ${m.loadavg.join(' ')}; ${pytorchNote}\n`,
        );
      } else if (!pytorch && flags.pytorch) {
        io.err(`netaug: ${pytorchNote}\n`);
      }
      const settings = {
        augConfig,
        configs: flags.configs,
        warmup: flags.warmup,
        steps: flags.steps,
        numClasses: flags.classes,
        seed: flags.seed,
        recompute: flags.recompute ?? false,
        pytorch,
      };
      const recs: StepRecord[] = [];
      const isolate = cases.length > 1 && !flags.inProcess;
      for (const [i, c] of cases.entries()) {
        const measured = isolate
          ? await benchStepInChild(c, settings, backend.name)
          : await benchStepCase(c, settings);
        // NetAug relative to the baseline measured before it (the matrix runs baselines first)
        const rec = { ...measured, ...macBoundFields(measured, recs) };
        const full = {
          ...rec,
          cores: m.cores,
          loadavg: machineInfo().loadavg,
          date: new Date().toISOString(),
        };
        recs.push(rec);
        if (flags.json) io.out(JSON.stringify(full) + '\n');
        else {
          const what = `${c.model}${c.width !== undefined ? `@${c.width}` : ''} ${c.input.join('x')} b${c.batch} ${c.strategy}`;
          io.err(
            `[${i + 1}/${cases.length}] ${what}: ${rec.error ? `error: ${rec.error}` : `${rec.msPerStep} ms/step`}\n`,
          );
        }
      }
      if (!flags.json) io.out(stepTable(recs));
    });

  bench
    .command('data')
    .description(
      'Data-pipeline images/s: IDX Fashion-MNIST and an ImageFolder of generated JPEGs, epochs 1 and 2',
    )
    .option('--images <n>', 'JPEGs to generate for the ImageFolder', parsePositiveInt('--images'), 300)
    .option('--workers <n>', 'loader workers: auto or a number (0 = in the main thread)', 'auto')
    .option('--data-dir <dir>', 'where to look first for the Fashion-MNIST IDX files (also NETAUG_DATA)')
    .option(
      '--step-images-per-sec <n>',
      'training-step images/s to print next to the loader figures',
      parsePositiveNumber('--step-images-per-sec'),
    )
    .option('--keep', 'keep the generated JPEG folder')
    .option('--json', 'one JSON object per measurement')
    .action(async (flags: DataFlags) => {
      let workers: number | 'auto' = 'auto';
      if (flags.workers !== 'auto') {
        const n = Number(flags.workers);
        if (!Number.isInteger(n) || n < 0)
          throw new UsageError(`--workers must be 'auto' or a non-negative integer, got '${flags.workers}'`);
        workers = n;
      }
      const { runDataBench } = await import('../bench/data');
      const recs: import('../bench/data').DataRecord[] = [];
      await runDataBench(
        {
          images: flags.images,
          workers,
          dataDir: flags.dataDir,
          stepImagesPerSec: flags.stepImagesPerSec,
          keep: flags.keep,
        },
        (r) => {
          recs.push(r);
          if (flags.json) io.out(JSON.stringify(r) + '\n');
        },
      );
      if (!flags.json) {
        io.out(
          formatTable([
            [
              'dataset',
              'epoch',
              'shape',
              'batch',
              'mode',
              'workers',
              'images',
              'seconds',
              'img/s',
              ...(flags.stepImagesPerSec ? ['step img/s', 'loader/step'] : []),
            ],
            ...recs.map((r) => [
              r.dataset,
              r.epoch,
              r.shape.join('×'),
              r.batch,
              r.mode,
              r.workers,
              r.images,
              r.seconds,
              r.imagesPerSec,
              ...(flags.stepImagesPerSec ? [r.stepImagesPerSec ?? '-', r.loaderToStepRatio ?? '-'] : []),
            ]),
          ]),
        );
      }
    });
}
