import { NetAugError } from '@netaug/core';
import type { BlockContext, BlockFactory, BlockConfig, DynamicBlock } from './block';
import { createConvBlock } from './blocks/conv-block';
import { createDSBlock } from './blocks/ds-block';
import { createMBBlock } from './blocks/mb-block';
import { createBasicBlock, createBottleneckBlock } from './blocks/resnet-blocks';

/** The built-in block types, registered when the package is imported. */
export const BUILTIN_BLOCK_TYPES: readonly string[] = ['conv', 'ds', 'mb', 'basic', 'bottleneck'];

/**
 * One registry per process, not per copy of this package: a plugin loaded as ESM (`import`) and the CLI loaded as
 * CommonJS (`require`) get two module instances, and a block type registered through one must be found by the
 * other (tfjs keeps its engine in a process global for the same reason).
 */
const factories: Map<string, BlockFactory> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('@netaug/supernet.blocks')
] ??= new Map<string, BlockFactory>()) as Map<string, BlockFactory>;
for (const [type, make] of [
  ['conv', createConvBlock],
  ['ds', createDSBlock],
  ['mb', createMBBlock],
  ['basic', createBasicBlock],
  ['bottleneck', createBottleneckBlock],
] as const)
  if (!factories.has(type)) factories.set(type, make);

/**
 * Registers a block type: model specs then use `{ type, ...args }` entries of it, and `factory(spec, ctx)` builds
 * each one (see {@link DynamicBlock}). Throws INVALID_ARGUMENT if the type is taken.
 */
export function registerBlock(type: string, factory: BlockFactory): void {
  if (typeof type !== 'string' || !/^[A-Za-z][\w.-]*$/.test(type))
    throw new NetAugError('INVALID_ARGUMENT', `block type '${String(type)}' must be a name like 'my-block'`);
  if (typeof factory !== 'function')
    throw new NetAugError('INVALID_ARGUMENT', `registerBlock('${type}'): the factory must be a function`);
  if (factories.has(type))
    throw new NetAugError('INVALID_ARGUMENT', `a block type named '${type}' is already registered`);
  factories.set(type, factory);
}

/** The registered block types, built-ins first. */
export function listBlockTypes(): string[] {
  return [...factories.keys()];
}

/** Whether `type` is a registered block type. */
export function hasBlockType(type: string): boolean {
  return factories.has(type);
}

/** Builds a block of a registered type (INVALID_CONFIG for an unknown type or a factory that breaks the contract). */
export function createBlock(spec: BlockConfig, ctx: BlockContext): DynamicBlock {
  const factory = factories.get(spec.type);
  if (!factory) {
    throw new NetAugError('INVALID_CONFIG', `${ctx.name}: unknown block type '${spec.type}'`, {
      hint: `registered types: ${listBlockTypes().join(', ')} (add one with registerBlock)`,
    });
  }
  const block = factory(spec, ctx);
  const ok =
    block &&
    typeof block.plan === 'function' &&
    typeof block.forward === 'function' &&
    typeof block.emit === 'function' &&
    typeof block.variables === 'function' &&
    typeof block.channelGroups === 'function' &&
    block.choices &&
    Array.isArray(block.choices.width) &&
    Array.isArray(block.choices.expand) &&
    Number.isInteger(block.outTiny) &&
    Number.isInteger(block.outMax) &&
    Number.isInteger(block.stride);
  if (!ok) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${ctx.name}: the factory of block type '${spec.type}' did not return a DynamicBlock`,
      {
        hint: 'a block needs plan, forward, emit, variables, channelGroups, choices, outTiny, outMax and stride',
      },
    );
  }
  return block;
}
