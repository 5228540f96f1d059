/**
 * `node:http2`, loaded on first use. Loading it (nghttp2 binding, its JS layers, a server object) costs
 * ≈ 3.3 MB RSS, and most proxies never see an h2 connection: HTTP/1.1 between sidecars is the default, h2
 * only for endpoints marked `protocol: h2` and peers that open h2 on the inbound listener.
 *
 * @example
 * const session = http2Module().connect(url, { createConnection: () => socket })
 */
import type * as Http2 from 'node:http2'

let http2: typeof Http2 | undefined

// Perf: synchronous lazy load of a builtin (no await on the accept/dial path): −3.3 MB RSS per proxy that serves
// and calls no h2 (`node -e`, RSS before/after `require('node:http2')` + `createServer()`: 5.1 MB vs 1.8 MB for node:net).
export function http2Module (): typeof Http2 {
  return http2 ??= process.getBuiltinModule('node:http2')
}

/** RFC 9113 §7 error codes (the values of `http2.constants.NGHTTP2_*`), usable without loading node:http2. */
export const H2_INTERNAL_ERROR = 0x2
export const H2_CANCEL = 0x8

/**
 * node:http2 header objects ⇄ the proxy's flat `[name, value, …]` lists (pseudo-headers left out of the flat form).
 * Node joins repeated fields with `, ` except `set-cookie` (an array) and `cookie` (joined with `; ` by h2 rules).
 */
export function flatFromNodeHeaders (h: Record<string, string | string[] | number | undefined>): string[] {
  const flat: string[] = []
  for (const k in h) {
    if (k.charCodeAt(0) === 58 /* : */) continue
    const v = h[k]
    if (v === undefined) continue
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) flat.push(k, v[i])
    else flat.push(k, typeof v === 'string' ? v : String(v))
  }
  return flat
}

/** Flat fields (plus `pseudo`, e.g. `{ ':status': 200 }`) → a node:http2 header object; repeats become arrays. */
export function nodeHeadersFromFlat (flat: readonly string[], pseudo: Record<string, string | number>): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = { ...pseudo }
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i]
    const prev = out[n]
    out[n] = prev === undefined ? flat[i + 1] : Array.isArray(prev) ? [...prev, flat[i + 1]] : [String(prev), flat[i + 1]]
  }
  return out
}
