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
