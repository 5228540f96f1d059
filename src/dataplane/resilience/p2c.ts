import type { EndpointState } from './endpoint-state.ts'

/** Load of an endpoint for power-of-two-choices; lower is better. */
export type LoadFn = (ep: EndpointState, now: number) => number

/**
 * Power of two choices (Mitzenmacher): draw two distinct endpoints at random, keep the less loaded.
 * When a draw hits an unavailable or excluded endpoint, fall back to a scan for the least loaded
 * available one (from a random offset, so ties do not pile onto the first endpoint).
 * Perf: no allocation; `load` is a module-level function, not a closure.
 */
export function pickP2C (eps: readonly EndpointState[], now: number, exclude: EndpointState | null | undefined, load: LoadFn): EndpointState | null {
  const n = eps.length
  if (n === 0) return null
  if (n === 1) {
    const only = eps[0]
    return only.isAvailable(now) ? only : null
  }
  const ai = (Math.random() * n) | 0
  let bi = (Math.random() * (n - 1)) | 0
  if (bi >= ai) bi++
  const a = eps[ai]
  const b = eps[bi]
  if (a !== exclude && b !== exclude && a.isAvailable(now) && b.isAvailable(now)) {
    return load(b, now) < load(a, now) ? b : a
  }
  return scanLeast(eps, now, exclude, load, ai)
}

function scanLeast (eps: readonly EndpointState[], now: number, exclude: EndpointState | null | undefined, load: LoadFn, start: number): EndpointState | null {
  const n = eps.length
  let best: EndpointState | null = null
  let bestLoad = Infinity
  let excludedAvailable = false
  for (let k = 0; k < n; k++) {
    let i = start + k
    if (i >= n) i -= n
    const ep = eps[i]
    if (!ep.isAvailable(now)) continue
    if (ep === exclude) { excludedAvailable = true; continue }
    const l = load(ep, now)
    if (l < bestLoad) { best = ep; bestLoad = l }
  }
  if (best === null && excludedAvailable) return exclude!
  return best
}
