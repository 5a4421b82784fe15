import * as path from 'path';
import { NetAugError, type ModelIR } from '@netaug/core';
import { exportOnnx, type OnnxExportOptions } from './onnx/export';
import type { WrittenFiles } from './atomic-write';
import { EXPORT_FORMATS, assertSupported, type ExportFormat } from './support';
import { exportTfjs } from './tfjs/export';
import type { TfjsExportOptions } from './tfjs/topology';
import { exportTflite, type TfliteQuantizeOptions } from './tflite/export';

/** Options of {@link exportModel}: the format, where to write, and the format's own options. */
export type ExportModelOptions =
  | ({ format: 'tfjs'; out: string } & TfjsExportOptions)
  | ({ format: 'onnx'; out: string } & OnnxExportOptions)
  | { format: 'tflite'; out: string; description?: string }
  | { format: 'tflite-int8'; out: string; quantize: TfliteQuantizeOptions; description?: string };

/** What {@link exportModel} wrote. */
export interface ExportResult extends WrittenFiles {
  format: ExportFormat;
}

/**
 * Exports a ModelIR to one format. `out` is a directory for `tfjs` and a file for the others. Everything is
 * written to a temporary path and renamed into place, so a failure leaves nothing half-written. Throws
 * NetAugError `UNSUPPORTED_OP` (naming the node and the format) before writing anything when the format cannot
 * express a node, `INVALID_CONFIG` for an inconsistent IR, and `IO` when writing fails.
 *
 * @example
 * await exportModel(ir, { format: 'onnx', out: 'model.onnx', opset: 14 });
 * await exportModel(ir, { format: 'tflite-int8', out: 'model_int8.tflite', quantize: { calibration: images } });
 */
export async function exportModel(ir: ModelIR, options: ExportModelOptions): Promise<ExportResult> {
  const { format, out } = options;
  if (!EXPORT_FORMATS.includes(format)) {
    throw new NetAugError('INVALID_ARGUMENT', `unknown export format '${format as string}'`, {
      hint: `use one of ${EXPORT_FORMATS.join(', ')}`,
    });
  }
  if (!out)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      'exportModel needs options.out (a file, or a directory for tfjs)',
    );
  assertSupported(ir, format);
  const target = path.resolve(out);
  if (format === 'tfjs') {
    const { files, bytes } = await exportTfjs(ir, target, options);
    return { format, files, bytes };
  }
  if (format === 'onnx') return { format, ...(await exportOnnx(ir, target, options)) };
  if (format === 'tflite')
    return { format, ...(await exportTflite(ir, target, { description: options.description })) };
  if (!options.quantize?.calibration?.length) {
    throw new NetAugError('INVALID_ARGUMENT', "format 'tflite-int8' needs quantize.calibration images", {
      hint: 'pass quantize: { calibration: Float32Array[] } with representative NHWC inputs',
    });
  }
  return {
    format,
    ...(await exportTflite(ir, target, { quantize: options.quantize, description: options.description })),
  };
}
