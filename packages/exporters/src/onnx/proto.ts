import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

/**
 * The `onnx` protobuf namespace of onnx-proto. That package is CommonJS without statically detectable named
 * exports, so ES-module builds must go through its default export.
 */
export const onnx = (onnxProto as unknown as { onnx: typeof OnnxTypes }).onnx;
export type { OnnxTypes };
