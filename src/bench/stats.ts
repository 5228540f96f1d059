/** Median of the finite values (NaN when none). */
export function median (xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return Number.NaN
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** a / b, or NaN when b is 0 or either is not finite. */
export function ratio (a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN
}
