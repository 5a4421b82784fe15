import { UsageError } from './errors';

/** Parses a positive integer flag value or throws a UsageError naming the flag. */
export function parsePositiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

/** Parses a non-negative integer flag value (a seed, an index) or throws a UsageError naming the flag. */
export function parseNonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`${flag} must be a non-negative integer, got '${value}'`);
    return n;
  };
}

/** Parses a channel count, 1 (grayscale) or 3 (RGB), or throws a UsageError naming the flag. */
export function parseChannels(flag: string) {
  return (value: string): 1 | 3 => {
    const n = Number(value);
    if (n !== 1 && n !== 3) throw new UsageError(`${flag} must be 1 or 3, got '${value}'`);
    return n;
  };
}

/** Parses a positive number flag value or throws a UsageError naming the flag. */
export function parsePositiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(`${flag} must be a positive number, got '${value}'`);
    return n;
  };
}

/** Parses a comma-separated list of numbers (e.g. "1,1.8,2.6"). */
export function parseNumberList(flag: string) {
  return (value: string): number[] => {
    const xs = value.split(',').map((s) => Number(s.trim()));
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) {
      throw new UsageError(`${flag} must be a comma-separated list of numbers, got '${value}'`);
    }
    return xs;
  };
}

/** Parses "HxWxC" (e.g. 28x28x1) into [H, W, C]. */
export function parseShape(flag: string) {
  return (value: string): [number, number, number] => {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(value.trim());
    if (!m) throw new UsageError(`${flag} must look like HxWxC (e.g. 28x28x1), got '${value}'`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  };
}
