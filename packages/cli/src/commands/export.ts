import type { Command } from 'commander';
import { EXPORT_FORMATS } from '@netaug/core';
import type { Output } from '../output';
import { humanBytes, humanCount } from '../output';
import { parsePositiveInt } from '../parse';
import { UsageError } from '../errors';

interface ExportFlags {
  run: string;
  format: string;
  out: string;
  calibration: number;
  verify?: number | boolean;
  cHeader?: boolean;
  foldBn?: boolean;
  int8Weights: string;
  json?: boolean;
}

const FORMATS = EXPORT_FORMATS;

export function registerExport(program: Command, io: Output): void {
  program
    .command('export')
    .description("Export a run's tiny model to TensorFlow.js, ONNX or TFLite (float / int8)")
    .requiredOption('--run <dir>', 'run folder of `netaug train`')
    .requiredOption('--format <fmt>', FORMATS.join(' | '))
    .requiredOption('--out <dir>', 'output folder')
    .option(
      '--calibration <n>',
      'training images used to calibrate int8 activations',
      parsePositiveInt('--calibration'),
      200,
    )
    .option(
      '--verify [n]',
      'run the exported file in its runtime on n test images (default 1000) and compare with tfjs (a detection run: raw outputs, VOC mAP, and the decoded boxes matched with tfjs)',
    )
    .option(
      '--int8-weights <mode>',
      'int8 weight scales: auto (per layer, per-tensor where it adds ≤ 50% output noise) or per-channel',
      'auto',
    )
    .option('--c-header', 'also write model_data.h (byte array) for TFLite-Micro')
    .option(
      '--fold-bn',
      'fold batch norm into the convolutions (default for ONNX; tfjs keeps it unless given; TFLite always folds)',
    )
    .option(
      '--no-fold-bn',
      'keep batch norm as its own nodes (ONNX: BatchNormalization, e.g. to train further elsewhere)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug export --run runs/netaug --format onnx --out exports --verify\n  $ netaug export --run runs/netaug --format tflite-int8 --out exports --calibration 500 --c-header --verify 2000 --json',
    )
    .action(async (flags: ExportFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) {
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${flags.format}'`);
      }
      if (flags.int8Weights !== 'auto' && flags.int8Weights !== 'per-channel') {
        throw new UsageError(`--int8-weights must be auto or per-channel, got '${flags.int8Weights}'`);
      }
      let verify: number | undefined;
      if (flags.verify === true) verify = 1000;
      else if (flags.verify !== undefined) verify = parsePositiveInt('--verify')(String(flags.verify));
      const { exportRun } = await import('../run/export-run');
      const r = await exportRun({
        run: flags.run,
        format: flags.format as (typeof FORMATS)[number],
        out: flags.out,
        calibration: flags.calibration,
        verify,
        cHeader: flags.cHeader,
        foldBn: flags.foldBn,
        int8Weights: flags.int8Weights,
      });
      if (flags.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out(
        `${r.format}: ${r.file} (${r.bytes.toLocaleString('en-US')} bytes of flash); tiny model ${humanCount(r.params)} params, ${humanCount(r.macs)} MACs; ` +
          `peak activation RAM ≈ ${humanBytes(r.peakActivationBytes)} (one image, layer by layer)\n`,
      );
      if (r.cHeader) io.out(`C header: ${r.cHeader}\n`);
      if (r.verifiedImages && r.vocMAP !== undefined) {
        io.out(
          `verified on ${r.verifiedImages} test images: max |Δ raw output| ${r.maxAbsDiff!.toExponential(2)} vs tfjs, ` +
            `VOC mAP@0.5 ${r.vocMAP.toFixed(4)} (tfjs ${r.tfjsVocMAP!.toFixed(4)})\n`,
        );
        const d = r.detections!;
        io.out(
          `decoded detections: ${d.matched} of tfjs' ${d.reference} found (same class, IoU ≥ 0.99` +
            (d.matched
              ? `; min IoU ${d.minIoU!.toFixed(4)}, max |Δscore| ${d.maxScoreDiff!.toExponential(2)}`
              : '') +
            `), ${d.unmatchedOther} of the export's ${d.other} without a tfjs partner` +
            (d.same ? ': the same boxes\n' : '\n'),
        );
      } else if (r.verifiedImages) {
        io.out(
          `verified on ${r.verifiedImages} test images: max |Δlogit| ${r.maxAbsDiff!.toExponential(2)} vs tfjs, ` +
            `top-1 agreement ${(100 * r.top1Agreement!).toFixed(2)}%, top-1 ${(100 * r.top1!).toFixed(2)}% (tfjs ${(100 * r.tfjsTop1!).toFixed(2)}%)\n`,
        );
      }
    });
}
