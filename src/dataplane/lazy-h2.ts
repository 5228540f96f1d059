/**
 * Our HTTP/2 codec (src/dataplane/http2/), loaded on the first h2 connection or h2 upstream: a proxy that only ever
 * carries HTTP/1.1 (the default between sidecars for HTTP/1.1 apps) does not pay for its code (≈ 0.3 MB of RSS under
 * load, measured in bench/proxy-overhead A/B). Loading is asynchronous (an ES module): the first h2 connection waits
 * for it (its socket stays paused), later ones find it loaded.
 *
 * @example
 * const codec = h2Codec() ?? await loadH2Codec()
 * new codec.H2ServerConnection(events, options).attach(socket)
 */
type Codec = typeof import('./http2/index.ts')

let codec: Codec | null = null
let loading: Promise<Codec> | null = null

/** The codec when it is loaded, else null. */
export function h2Codec (): Codec | null {
  return codec
}

/** Load the codec (once). */
export function loadH2Codec (): Promise<Codec> {
  // Perf: one dynamic import for the whole process; its promise is shared by every caller that raced for it
  return loading ??= import('./http2/index.ts').then(m => { codec = m; return m })
}
