import type { Command } from 'commander';
import { profileModel } from '../profile-model';
import { formatTable, humanBytes, humanCount, type Output } from '../output';
import { parseNumberList, parsePositiveInt, parsePositiveNumber } from '../parse';
import { UsageError } from '../errors';
import { addDetectorHeadOptions } from './train';

interface ProfileFlags {
  resolution?: number;
  channels: number;
  classes: number;
  width?: number;
  smallInput?: boolean;
  widthMults?: number[];
  expandFactors?: number[];
  config: string;
  layers?: boolean;
  json?: boolean;
  modelSpec?: string;
  plugin?: string[];
  task?: string;
  neckChannels?: number;
  headChannels?: number;
  headDepth?: number;
}

export function registerProfile(program: Command, io: Output): void {
  addDetectorHeadOptions(program.command('profile'))
    .description(
      'Count params and MACs of a zoo model (the tiny model unless --config says otherwise), or of a detector on it (--task detect)',
    )
    .argument('[model]', 'zoo model name (see `netaug models`), or the name of --model-spec')
    .option('--model-spec <file>', 'a model spec file (YAML/JSON) instead of a zoo model')
    .option(
      '--plugin <module>',
      'a module that registers block types (registerBlock); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '-r, --resolution <px>',
      'input height and width (default: the paper’s resolution)',
      parsePositiveInt('--resolution'),
    )
    .option('--channels <n>', 'input channels', parsePositiveInt('--channels'), 3)
    .option('--classes <n>', 'number of classes', parsePositiveInt('--classes'), 1000)
    .option(
      '--width <w>',
      'width multiplier of the tiny model (mobilenetv2, proxylessnas, mobilenetv3)',
      parsePositiveNumber('--width'),
    )
    .option('--small-input', 'small-input form for 28–64 px images (8× downsampling)')
    .option(
      '--task <task>',
      'classify (default) or detect: the FCOS-style detector on this backbone (neck and head included; --classes are object classes)',
    )
    .option(
      '--width-mults <list>',
      'augmentation width multipliers, e.g. 1,1.8,2.6',
      parseNumberList('--width-mults'),
    )
    .option(
      '--expand-factors <list>',
      'augmentation expand factors, e.g. 1,1.6,2.2,2.8',
      parseNumberList('--expand-factors'),
    )
    .option(
      '--config <mode>',
      'which sub-network: min (the tiny model) or max (largest augmented model)',
      'min',
    )
    .option('--layers', 'print the per-layer breakdown')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug profile mobilenetv2-tiny\n  $ netaug profile --model-spec my-model.yaml --plugin ./my-blocks.mjs --resolution 32 --classes 10\n  $ netaug profile mobilenetv2 --width 0.35 --resolution 32 --small-input --classes 10 --json\n  $ netaug profile mcunet --config max\n  $ netaug profile mobilenetv2-tiny --task detect --resolution 96 --channels 1 --classes 10',
    )
    .action(async (modelArg: string | undefined, flags: ProfileFlags) => {
      const { loadUserModels } = await import('../run/user-models');
      const model = await loadUserModels({
        model: modelArg,
        modelSpec: flags.modelSpec,
        plugins: flags.plugin,
      });
      if (!model) throw new UsageError('name a zoo model (netaug models) or pass --model-spec <file>');
      if (flags.task !== undefined && flags.task !== 'classify' && flags.task !== 'detect')
        throw new UsageError(`--task must be classify or detect, got '${flags.task}'`);
      const p = await profileModel({
        model,
        resolution: flags.resolution,
        channels: flags.channels,
        numClasses: flags.classes,
        width: flags.width,
        smallInput: !!flags.smallInput,
        widthMults: flags.widthMults,
        expandFactors: flags.expandFactors,
        config: flags.config,
        task: flags.task as 'classify' | 'detect' | undefined,
        neckChannels: flags.neckChannels,
        headChannels: flags.headChannels,
        headDepth: flags.headDepth,
      });
      if (flags.json) {
        const { layers: _layers, ...rest } = p;
        io.out(JSON.stringify(flags.layers ? p : rest, null, 2) + '\n');
        return;
      }
      const det = p.detector;
      io.out(
        (det
          ? `${p.model} detector ${p.inputShape.join('×')} → ${p.numClasses} classes at strides ${det.levels.map((l) => `${l.stride} (${l.height}×${l.width})`).join(', ')}, ${p.config} config\n`
          : `${p.model} ${p.inputShape.join('×')} → ${p.numClasses} classes${p.smallInput ? ' (small input)' : ''}, ${p.config} config\n`) +
          `params ${p.params.toLocaleString('en-US')} (${humanCount(p.params)})  MACs ${p.macs.toLocaleString('en-US')} (${humanCount(p.macs)})\n` +
          `deploy: weights ${humanBytes(p.deploy.weightsBytes.float32)} float32 / ${humanBytes(p.deploy.weightsBytes.int8)} int8 (BN folded); ` +
          `peak activations ${humanBytes(p.deploy.peakActivationBytes.float32)} float32 / ${humanBytes(p.deploy.peakActivationBytes.int8)} int8 ` +
          `(one image, layer by layer, at ${p.deploy.peakAt})\n` +
          (det
            ? (['backbone', 'neck', 'head'] as const)
                .map(
                  (k) =>
                    `${k.padEnd(8)} params ${det.parts[k].params.toLocaleString('en-US')}  MACs ${det.parts[k].macs.toLocaleString('en-US')}`,
                )
                .join('\n') +
              '\n(the head is shared by the levels: its conv weights count once per level, as exported)\n'
            : ''),
      );
      if (flags.layers) {
        io.out(
          formatTable([
            ['layer', 'op', 'output', 'params', 'MACs'],
            ...p.layers.map((l) => [l.name, l.op, l.outputShape.join('×'), l.params, l.macs]),
          ]),
        );
      }
    });
}
