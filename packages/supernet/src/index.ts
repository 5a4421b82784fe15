export { createSupernet, listModels, registerModel, profileSupernet } from './registry';
export type { CreateSupernetOptions, ModelInfo, RegisterModelInfo } from './registry';
export { BlockSupernet } from './block-supernet';
export type { BlockSupernetOptions } from './block-supernet';
export { MobileNetSupernet } from './mobilenet-supernet';
export type { MobileNetSupernetOptions } from './mobilenet-supernet';
export type {
  DynamicBlock,
  BlockConfig,
  BlockPlan,
  BlockChoices,
  BlockContext,
  BlockFactory,
  ChannelGroup,
  IRSink,
} from './block';
export { registerBlock, listBlockTypes, createBlock, BUILTIN_BLOCK_TYPES } from './block-registry';
export { resolveModelSpec, validateModelSpec, modelSpecFromArch } from './model-spec';
export type { ModelSpec } from './model-spec';
export { ClassifierHead } from './classifier-head';
export type { HiddenLayerSpec } from './classifier-head';
export { ChoiceSpace, activeWidth, activeMid } from './choice-space';
export type { ActivePlan, ChoicePointNames } from './choice-space';
export { resolveArch } from './arch-spec';
export type { ArchSpec, StageSpec, BlockSpec, ResolvedArch } from './arch-spec';
export type { ModelDefinition } from './zoo';
export { resnetSpec } from './zoo/resnet';
export { buildTfModel } from './ir-executor';
export type { TfModel } from './ir-executor';
export { extractModelIR } from './extract';
export type { ExtractableSupernet } from './extract';
export { sortChannels } from './sort-channels';
export { DynamicConv2d } from './layers/dynamic-conv2d';
export type { DynamicConv2dOptions } from './layers/dynamic-conv2d';
export { DynamicDepthwiseConv2d } from './layers/dynamic-depthwise-conv2d';
export type { DynamicDepthwiseConv2dOptions } from './layers/dynamic-depthwise-conv2d';
export { DynamicBatchNorm, BN_MOMENTUM, BN_EPSILON } from './layers/dynamic-batch-norm';
export { DynamicLinear } from './layers/dynamic-linear';
export { DynamicSqueezeExcite, seChannels } from './layers/dynamic-squeeze-excite';
export { applyActivation } from './layers/activation';
export type { TfNamedVariable } from './layers/named-variable';
export type { WeightInit } from './layers/weight-init';
export { ConvBnAct } from './blocks/conv-bn-act';
export type { ConvBnActOptions } from './blocks/conv-bn-act';
export { ConvBlock } from './blocks/conv-block';
export type { ConvBlockOptions } from './blocks/conv-block';
export { DSBlock } from './blocks/ds-block';
export type { DSBlockOptions } from './blocks/ds-block';
export { MBBlock } from './blocks/mb-block';
export type { MBBlockOptions } from './blocks/mb-block';
export { BasicBlock, BottleneckBlock } from './blocks/resnet-blocks';
export type { ResidualBlockOptions } from './blocks/resnet-blocks';
export { profile } from '@netaug/core';
export type { Profile } from '@netaug/core';
export { loadModelIR, type LoadModelIROptions, type LoadModelIRResult } from './load-ir';
