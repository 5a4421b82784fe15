import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { formatTable, type Output } from '../output';
import { parseChannels, parseNonNegativeInt, parsePositiveInt } from '../parse';

interface ScenesFlags {
  train: number;
  test: number;
  size: number;
  channels: 1 | 3;
  seed: number;
  dataDir?: string;
  json?: boolean;
}

interface InspectFlags {
  dataDir?: string;
  size?: number;
  channels?: 1 | 3;
  skipCorrupt?: boolean;
  json?: boolean;
}

export function registerData(program: Command, io: Output): void {
  const data = program.command('data').description('Inspect data sets; generate detection scenes');
  data
    .command('inspect')
    .description(
      'Detect the format of a data set and report counts per split and class, image shape, mean/std',
    )
    .argument(
      '<path|name>',
      'a folder (IDX, CIFAR binary, one sub-folder per class), a CSV/JSON manifest, fashion-mnist / mnist, or detection data: scenes, coco:<annotations.json>[,<test.json>], voc:<folder>, yolo:<folder> (boxes per class)',
    )
    .option('--data-dir <dir>', 'where to look first for fashion-mnist / mnist (also NETAUG_DATA)')
    .option('--size <px>', 'decode images to this size for the statistics', parsePositiveInt('--size'))
    .option('--channels <n>', 'decode images with 1 or 3 channels', parseChannels('--channels'))
    .option('--skip-corrupt', 'skip unreadable images (counted) instead of failing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug data inspect fashion-mnist --json\n  $ netaug data inspect ./my-photos --size 96\n  $ netaug data inspect ./labels.csv\n  $ netaug data inspect voc:./VOC2007',
    )
    .action(async (target: string, flags: InspectFlags) => {
      if (isDetectionData(target)) return inspectDetection(target, flags, io);
      const { inspectDataset } = await import('@netaug/data');
      const info = await inspectDataset(target, {
        dataDir: flags.dataDir,
        size: flags.size,
        channels: flags.channels,
        skipCorrupt: flags.skipCorrupt,
      });
      if (flags.json) {
        io.out(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      const fmt = (xs: number[]) => xs.map((x) => x.toFixed(4)).join(', ');
      io.out(
        `format   ${info.format}\nsource   ${info.source}\nshape    ${info.shape.join('×')}\nclasses  ${info.numClasses}\n` +
          `mean     [${fmt(info.mean)}]\nstd      [${fmt(info.std)}]  (${info.statsSamples} images)\n` +
          (info.skipped ? `skipped  ${info.skipped} unreadable images\n` : '') +
          '\n',
      );
      const splits = Object.entries(info.splits).filter(([, s]) => s) as [
        string,
        { count: number; perClass: number[] },
      ][];
      io.out(
        formatTable([
          ['class', ...splits.map(([n]) => n)],
          ...info.classNames.map((c, i) => [c, ...splits.map(([, s]) => s.perClass[i] ?? 0)]),
          ['total', ...splits.map(([, s]) => s.count)],
        ]),
      );
    });
  registerScenes(data, io);
}

/** `netaug data scenes`: a detection data set of generated Fashion-MNIST scenes, as COCO JSON + PNG. */
function registerScenes(data: Command, io: Output): void {
  data
    .command('scenes')
    .description(
      'Generate a detection data set: Fashion-MNIST items pasted onto canvases (train scenes from training images, test scenes from test images), written as COCO JSON + PNG for --data coco:',
    )
    .argument('<out>', 'folder to write (train/ and test/, each annotations.json + images/)')
    .option('--train <n>', 'training scenes', parsePositiveInt('--train'), 2000)
    .option('--test <n>', 'test scenes', parsePositiveInt('--test'), 500)
    .option('--size <px>', 'canvas side', parsePositiveInt('--size'), 96)
    .option(
      '--channels <n>',
      '1 (grayscale) or 3 (coloured backgrounds, tinted items)',
      parseChannels('--channels'),
      1,
    )
    .option('--seed <n>', 'seed of the scenes', parseNonNegativeInt('--seed'), 0)
    .option(
      '--data-dir <dir>',
      'Fashion-MNIST IDX folder the items come from (default: the embedded subset, the same scenes everywhere; /usr/share/datasets/fashion-mnist for the full set)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Each scene holds 1–6 items scaled to 12–48 px, placed with limited overlap; a box is its item's tight bounds. The
same options give the same bytes. The embedded scenes (--data scenes) are --train 200 --test 100 --seed 2026.

Examples:
  $ netaug data scenes ./scenes --train 4000 --test 500
  $ netaug train --task detect --data coco:./scenes/train/annotations.json,./scenes/test/annotations.json --channels 1 --val-split 400`,
    )
    .action(async (out: string, flags: ScenesFlags) => {
      const { generateScenes, writeScenes } = await import('@netaug/detection');
      const { join, resolve } = await import('node:path');
      const written: Record<string, { scenes: number; boxes: number; annotations: string; items: string }> =
        {};
      for (const split of ['train', 'test'] as const) {
        const t0 = Date.now();
        const scenes = await generateScenes({
          split,
          count: flags[split],
          size: flags.size,
          seed: flags.seed,
          channels: flags.channels,
          dataDir: flags.dataDir,
        });
        const { annotationFile } = writeScenes(join(out, split), scenes);
        const boxes = scenes.scenes.reduce((n, x) => n + x.boxes.length, 0);
        written[split] = {
          scenes: scenes.size,
          boxes,
          annotations: resolve(annotationFile),
          items: scenes.itemSource,
        };
        if (!flags.json)
          io.err(
            `${split}: ${scenes.size} scenes, ${boxes} boxes (items: ${scenes.itemSource}) → ${annotationFile} ` +
              `(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
          );
      }
      const data = `coco:${join(out, 'train', 'annotations.json')},${join(out, 'test', 'annotations.json')}`;
      // COCO data is read as RGB unless told: grayscale scenes say so
      const args = `--data ${data} --channels ${flags.channels}`;
      if (flags.json) io.out(JSON.stringify({ ...written, data, channels: flags.channels }, null, 2) + '\n');
      else io.out(`train on it with: netaug train --task detect ${args}\n`);
    });
}

/** `scenes` (when no such folder exists) or `coco:` / `voc:` / `yolo:` — the detection data forms of `--task detect`. */
function isDetectionData(target: string): boolean {
  return /^(coco|voc|yolo):/.test(target) || (target === 'scenes' && !existsSync(target));
}

/** Boxes per class and split, box sizes and image sizes of detection data (`describeDetectionDataset`). */
async function inspectDetection(target: string, flags: InspectFlags, io: Output): Promise<void> {
  const { describeDetectionDataset } = await import('@netaug/detection');
  const { loadDetectSplits, parseDetectData } = await import('../run/detect-data');
  const channels = flags.channels ?? (parseDetectData(target).kind === 'scenes' ? 1 : 3);
  const { train, test, source } = await loadDetectSplits(target, channels);
  const splits: [string, Awaited<ReturnType<typeof describeDetectionDataset>>][] = [
    ['train', await describeDetectionDataset(train)],
    ...(test
      ? [
          ['test', await describeDetectionDataset(test)] as [
            string,
            Awaited<ReturnType<typeof describeDetectionDataset>>,
          ],
        ]
      : []),
  ];
  if (flags.json) {
    io.out(
      JSON.stringify(
        {
          task: 'detect',
          format: train.format,
          source,
          classNames: train.classNames,
          splits: Object.fromEntries(splits),
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  io.out(
    `format   ${train.format ?? 'detection'}\nsource   ${source}\nclasses  ${train.classNames.length}\n`,
  );
  for (const [name, d] of splits)
    io.out(
      `${name.padEnd(8)} ${d.images} images (${d.emptyImages} without boxes), ${d.boxes} boxes, ` +
        `${d.boxesPerImage.min}–${d.boxesPerImage.max} per image (mean ${d.boxesPerImage.mean.toFixed(2)}); ` +
        `small/medium/large ${d.sizes.small}/${d.sizes.medium}/${d.sizes.large}; ` +
        `images ${d.imageSize.minWidth}–${d.imageSize.maxWidth} × ${d.imageSize.minHeight}–${d.imageSize.maxHeight} px\n`,
    );
  io.out('\n');
  io.out(
    formatTable([
      ['class', ...splits.flatMap(([n]) => [`${n} boxes`, `${n} images`])],
      ...train.classNames.map((c, k) => [
        c,
        ...splits.flatMap(([, d]) => [d.perClass[k].boxes, d.perClass[k].images]),
      ]),
      ['total', ...splits.flatMap(([, d]) => [d.boxes, d.images])],
    ]),
  );
}
