/** Output index range [lo, hi) whose input coordinate `o·stride + tapOffset − pad` lies in [0, size). */
export function validRange(
  size: number,
  outSize: number,
  stride: number,
  tapOffset: number,
  pad: number,
): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - tapOffset) / stride));
  const hi = Math.min(outSize, Math.floor((size - 1 + pad - tapOffset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}
