import { NetAugError, type ActivationKind } from '@netaug/core';
import type { BlockContext, BlockConfig } from '../block';

const ACTIVATIONS: readonly string[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid', 'none'];

/** Reads and checks the arguments of one block spec; errors name the block, its type and the argument. */
export class BlockArgs {
  constructor(
    readonly spec: BlockConfig,
    readonly ctx: Pick<BlockContext, 'name'>,
  ) {}

  private fail(arg: string, want: string): never {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${this.ctx.name} (${this.spec.type}): argument '${arg}' must be ${want}, got ${JSON.stringify(this.spec[arg])}`,
    );
  }

  /** A positive integer argument (`fallback` when absent; required when there is none). */
  int(arg: string, fallback?: number): number {
    const v = this.spec[arg] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(arg, 'a positive integer');
    return v;
  }

  /** A positive number argument. */
  number(arg: string, fallback?: number): number {
    const v = this.spec[arg] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(arg, 'a positive number');
    return v;
  }

  optionalNumber(arg: string): number | undefined {
    return this.spec[arg] === undefined ? undefined : this.number(arg);
  }

  optionalInt(arg: string): number | undefined {
    return this.spec[arg] === undefined ? undefined : this.int(arg);
  }

  bool(arg: string, fallback: boolean): boolean {
    const v = this.spec[arg] ?? fallback;
    if (typeof v !== 'boolean') this.fail(arg, 'true or false');
    return v;
  }

  /** An activation name (`relu`, `relu6`, `hswish`, `hsigmoid`, `sigmoid`; `none` where `allowNone`). */
  act(arg: string, fallback?: ActivationKind | 'none', allowNone = false): ActivationKind | 'none' {
    const v = this.spec[arg] ?? fallback;
    if (typeof v !== 'string' || !ACTIVATIONS.includes(v) || (v === 'none' && !allowNone))
      this.fail(arg, `one of ${ACTIVATIONS.filter((a) => allowNone || a !== 'none').join(', ')}`);
    return v as ActivationKind | 'none';
  }

  /** An optional `{ k, s }` window argument (e.g. the stem's max-pool). */
  optionalWindow(arg: string): { k: number; s: number } | undefined {
    const v = this.spec[arg];
    if (v === undefined) return undefined;
    const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 1;
    if (!v || typeof v !== 'object' || !ok((v as { k: unknown }).k) || !ok((v as { s: unknown }).s))
      this.fail(arg, '{ k, s } with positive integers');
    const { k, s } = v as { k: number; s: number };
    return { k, s };
  }

  /** Throws INVALID_CONFIG for a broken constraint between arguments. */
  invalid(message: string): never {
    throw new NetAugError('INVALID_CONFIG', `${this.ctx.name} (${this.spec.type}): ${message}`);
  }
}

/** The largest width multiplier and expand factor of a space (the lists increase). */
export function largest(ctx: BlockContext): { width: number; expand: number } {
  const { widthMults: W, expandFactors: E } = ctx.space;
  return { width: W[W.length - 1], expand: E[E.length - 1] };
}
