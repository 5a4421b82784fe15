import { makeDivisible } from '@netaug/core';

/**
 * Active channels for a width choice point with tiny width `c` at multiplier `m`: `round(c·m)` (makeDivisible
 * with divisor 1, i.e. no rounding to 8). At `m = 1` it is exactly `c`.
 */
export function activeWidth(c: number, m: number): number {
  return makeDivisible(c * m, 1);
}

/**
 * Active mid channels of an inverted bottleneck: `round(midTiny · f · inActive / inTiny)`, i.e.
 * `round(e_active · in_active)` with `e_active = f · e_tiny` and the block's effective tiny expand ratio
 * `e_tiny = midTiny / inTiny`. Using the tiny model's own mid (which MobileNetV2 rounds to 8 and
 * MobileNetV3/MCUNet give explicitly) makes `min` (f = 1, in = inTiny) exactly the tiny model.
 */
export function activeMid(midTiny: number, inTiny: number, factor: number, inActive: number): number {
  return makeDivisible((midTiny * factor * inActive) / inTiny, 1);
}
