/**
 * Rounds a channel count to a multiple of `divisor` the way MobileNet code does:
 * `n = max(min, floor((v + d/2) / d) * d)`, then `n += d` if rounding lost more than 10%.
 */
export function makeDivisible(value: number, divisor = 8, minValue?: number): number {
  const min = minValue ?? divisor;
  let n = Math.max(min, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * value) n += divisor;
  return n;
}
