/**
 * The subset of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, file identifier "TFL3",
 * schema version 3) that this package writes and reads. Enum values and field orders are copied from the
 * schema; the flatbuffers Builder takes field ids, readers the vtable offset `4 + 2 × id`, and a union field
 * takes two ids (type, then value).
 */

/** `TensorType` enum. */
export const TensorType = {
  FLOAT32: 0,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  INT8: 9,
} as const;
export type TensorTypeName = keyof typeof TensorType;

/** `BuiltinOperator` enum (the codes used here). */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  MEAN: 40,
  RESIZE_NEAREST_NEIGHBOR: 97,
  QUANTIZE: 114,
  HARD_SWISH: 117,
} as const;
export type BuiltinOperatorName = keyof typeof BuiltinOperator;

/** `BuiltinOptions` union type tags (position in the union + 1). */
export const BuiltinOptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  ReshapeOptions: 17,
  MulOptions: 21,
  ReducerOptions: 27,
  DequantizeOptions: 38,
  ResizeNearestNeighborOptions: 74,
  QuantizeOptions: 89,
  HardSwishOptions: 91,
} as const;

/** `Padding` enum. */
export const PaddingType = { SAME: 0, VALID: 1 } as const;

/** `ActivationFunctionType` enum. */
export const ActivationFunctionType = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 } as const;
export type FusedActivation = keyof typeof ActivationFunctionType;

/** Field ids of the tables written here (slot = 4 + 2·id). */
export const Fields = {
  Model: { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4 },
  SubGraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  Tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, is_variable: 5 },
  QuantizationParameters: {
    min: 0,
    max: 1,
    scale: 2,
    zero_point: 3,
    details_type: 4,
    details: 5,
    quantized_dimension: 6,
  },
  OperatorCode: { deprecated_builtin_code: 0, custom_code: 1, version: 2, builtin_code: 3 },
  Operator: { opcode_index: 0, inputs: 1, outputs: 2, builtin_options_type: 3, builtin_options: 4 },
  Buffer: { data: 0 },
  Conv2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    fused_activation_function: 3,
    dilation_w_factor: 4,
    dilation_h_factor: 5,
  },
  DepthwiseConv2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    depth_multiplier: 3,
    fused_activation_function: 4,
    dilation_w_factor: 5,
    dilation_h_factor: 6,
  },
  Pool2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    filter_width: 3,
    filter_height: 4,
    fused_activation_function: 5,
  },
  FullyConnectedOptions: { fused_activation_function: 0, weights_format: 1, keep_num_dims: 2 },
  AddOptions: { fused_activation_function: 0 },
  MulOptions: { fused_activation_function: 0 },
  ReducerOptions: { keep_dims: 0 },
  ReshapeOptions: { new_shape: 0 },
  ConcatenationOptions: { axis: 0, fused_activation_function: 1 },
  ResizeBilinearOptions: { new_height: 0, new_width: 1, align_corners: 2, half_pixel_centers: 3 },
  ResizeNearestNeighborOptions: { align_corners: 0, half_pixel_centers: 1 },
} as const;

/** Byte offset of field `id` in a vtable (what `ByteBuffer.__offset` takes; `Builder.addField*` takes the id). */
export const slot = (id: number): number => 4 + 2 * id;

/** Schema version written in `Model.version`. */
export const TFLITE_SCHEMA_VERSION = 3;
/** File identifier of TFLite flatbuffers. */
export const TFLITE_FILE_IDENTIFIER = 'TFL3';
