import * as path from 'path';
import type { ModelIR } from '@netaug/core';
import { writeFileAtomic, type WrittenFiles } from '../atomic-write';
import { buildOnnx, type OnnxExportOptions } from './build';

export * from './build';

/** Exports a ModelIR to an ONNX file (written atomically). See {@link buildOnnx} for the layout conventions. */
export async function exportOnnx(
  ir: ModelIR,
  file: string,
  options: OnnxExportOptions = {},
): Promise<WrittenFiles> {
  const bytes = buildOnnx(ir, options);
  await writeFileAtomic(file, bytes, { label: 'model' });
  return { files: [path.resolve(file)], bytes: bytes.length };
}
