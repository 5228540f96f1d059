import type { EndpointState } from './endpoint-state.ts'

/** Load of an endpoint for power-of-two-choices; lower is better. */
export type LoadFn = (ep: EndpointState, now: number) => number

/** Random draws per choice before falling back to a scan (a set with a few ejected endpoints rarely needs one). */
const DRAWS = 3

/**
 * Power of two choices (Mitzenmacher): draw two distinct available endpoints at random, keep the less
 * loaded. A draw that hits an unavailable or excluded endpoint is redrawn (up to DRAWS times); if that
 * fails, scan for the least loaded available endpoint (from a random offset, so ties do not pile onto
 * the first one). Perf: no allocation; `load` is a module-level function, not a closure.
 */
export function pickP2C (eps: readonly EndpointState[], now: number, exclude: EndpointState | null | undefined, load: LoadFn): EndpointState | null {
  const n = eps.length
  if (n === 0) return null
  if (n === 1) {
    const only = eps[0]
    return only.isAvailable(now) ? only : null
  }
  const a = draw(eps, n, now, exclude, null)
  if (a === null) return scanLeast(eps, now, exclude, load)
  const b = draw(eps, n, now, exclude, a)
  if (b === null) return scanLeast(eps, now, exclude, load)
  return load(b, now) < load(a, now) ? b : a
}

function draw (eps: readonly EndpointState[], n: number, now: number, exclude: EndpointState | null | undefined, other: EndpointState | null): EndpointState | null {
  for (let k = 0; k < DRAWS; k++) {
    const ep = eps[(Math.random() * n) | 0]
    if (ep !== other && ep !== exclude && ep.isAvailable(now)) return ep
  }
  return null
}

function scanLeast (eps: readonly EndpointState[], now: number, exclude: EndpointState | null | undefined, load: LoadFn): EndpointState | null {
  const n = eps.length
  const start = (Math.random() * n) | 0
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
