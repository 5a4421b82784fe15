import type { Command } from 'commander';
import { UsageError } from '../errors';
import type { Output } from '../output';

interface PredictFlags {
  run?: string;
  model?: string;
  top?: number;
  json?: boolean;
}

export function registerPredict(program: Command, io: Output): void {
  program
    .command('predict')
    .description(
      "Classify image files with a run's tiny model or an exported model, preprocessed as at training time",
    )
    .argument('<images...>', 'image files (PNG, JPEG, WebP, …)')
    .option('--run <dir>', 'run folder of `netaug train` (its model.nair)')
    .option(
      '--model <file>',
      'an exported model.json / model.onnx / model.tflite, with the preprocessing.json `netaug export` writes beside it',
    )
    .option('--top <k>', 'classes to show per image (default 5)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--top must be a positive integer, got '${v}'`);
      return n;
    })
    .option('--json', 'print JSON {model, runtime, predictions: [{file, top: [{label, className, probability}]}]}')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug predict --run runs/netaug shoe.png shirt.jpg\n  $ netaug predict --model export/model.tflite --top 3 --json shoe.png',
    )
    .action(async (images: string[], flags: PredictFlags) => {
      if (!!flags.run === !!flags.model)
        throw new UsageError('give one of --run <run folder> or --model <exported model>');
      const { predictRun, formatPrediction } = await import('../run/predict-run');
      const r = await predictRun({ model: (flags.run ?? flags.model)!, files: images, top: flags.top });
      if (flags.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      for (const p of r.predictions) io.out(formatPrediction(p) + '\n');
    });
}
