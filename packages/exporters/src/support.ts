import {
  EXPORT_FORMATS,
  NetAugError,
  validateModelIR,
  type ActivationKind,
  type ExportFormat,
  type IROp,
  type ModelIR,
} from '@netaug/core';

// the export targets of this package, declared once in @netaug/core (the CLI lists them without loading this one)
export { EXPORT_FORMATS, type ExportFormat };

const ALL_OPS: readonly IROp[] = [
  'input',
  'conv2d',
  'depthwiseConv2d',
  'batchNorm',
  'activation',
  'add',
  'mul',
  'globalAvgPool',
  'maxPool',
  'dense',
  'concat',
  'upsample',
];
const ALL_ACTIVATIONS: readonly ActivationKind[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid'];

/** IR ops and activations each format can express (today every format covers the whole ModelIR v1, both upsample modes included). */
export const SUPPORTED_OPS: Readonly<
  Record<ExportFormat, { ops: ReadonlySet<string>; activations: ReadonlySet<string> }>
> = {
  tfjs: { ops: new Set(ALL_OPS), activations: new Set(ALL_ACTIVATIONS) },
  onnx: { ops: new Set(ALL_OPS), activations: new Set(ALL_ACTIVATIONS) },
  tflite: { ops: new Set(ALL_OPS), activations: new Set(ALL_ACTIVATIONS) },
  'tflite-int8': { ops: new Set(ALL_OPS), activations: new Set(ALL_ACTIVATIONS) },
};

/**
 * Throws an UNSUPPORTED_OP NetAugError naming the first node `format` cannot express, then validates the IR
 * (INVALID_CONFIG on inconsistencies). Checked before anything is written.
 */
export function assertSupported(ir: ModelIR, format: ExportFormat): void {
  const support = SUPPORTED_OPS[format];
  if (!support) {
    throw new NetAugError('INVALID_ARGUMENT', `unknown export format '${format as string}'`, {
      hint: `use one of ${EXPORT_FORMATS.join(', ')}`,
    });
  }
  for (const node of ir.nodes ?? []) {
    const op = (node as { op: string }).op;
    if (!support.ops.has(op)) {
      throw new NetAugError(
        'UNSUPPORTED_OP',
        `node '${node.name}' (op '${op}') cannot be exported to ${format}`,
        {
          hint: `${format} export supports the ops ${[...support.ops].join(', ')}`,
          details: { node: node.name, op, format },
        },
      );
    }
    if (node.op === 'activation' && !support.activations.has(node.activation)) {
      throw new NetAugError(
        'UNSUPPORTED_OP',
        `node '${node.name}' (activation '${node.activation}') cannot be exported to ${format}`,
        {
          hint: `${format} export supports the activations ${[...support.activations].join(', ')}`,
          details: { node: node.name, op, format },
        },
      );
    }
  }
  validateModelIR(ir);
}
