import * as path from 'path';
import type { ModelIR } from '@netaug/core';
import { writeFileAtomic, type WrittenFiles } from '../atomic-write';
import { buildTflite, type TfliteExportOptions } from './build';

export * from './build';

/**
 * Exports a ModelIR to a TFLite flatbuffer file (written atomically). Float32 by default; with
 * `options.quantize` a full-integer int8 model (int8 weights per channel or per tensor as measured per layer,
 * int8 activations, int32 biases).
 * The input is NHWC `[1, H, W, C]`, the output `[1, numClasses]` logits — or, for an IR with `outputs`, one
 * model output per IR output in that order (`[1, H, W, C]` feature maps, `[1, C]` vectors).
 */
export async function exportTflite(
  ir: ModelIR,
  file: string,
  options: TfliteExportOptions = {},
): Promise<WrittenFiles> {
  const bytes = buildTflite(ir, options);
  await writeFileAtomic(file, bytes, { label: 'model' });
  return { files: [path.resolve(file)], bytes: bytes.length };
}
