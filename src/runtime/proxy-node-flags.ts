/**
 * Node/V8 flags of every `meshwork proxy` process: the one place that decides them, used by the launcher
 * (`meshworkCommand(['proxy', …])`: `meshwork up`, the bench scenarios) and by bench/proxy-overhead.ts.
 * Measured with `node --import tsx bench/proxy-overhead.ts` (bench/README.md).
 *
 * @example
 * spawn(process.execPath, [...PROXY_NODE_FLAGS, 'dist/cli/main.js', 'proxy', '--snapshot', 'snap.json'])
 */
export const PROXY_NODE_FLAGS: readonly string[] = Object.freeze([
  // Perf: a 1 MB semi-space (V8's default grows it to 16 MB, we had 4) keeps the young generation at 2 MB
  // committed instead of 8: −6 MB RSS per proxy. A proxied request leaves a few KB of short-lived garbage
  // and almost nothing survives, so the extra scavenges are cheap: CPU µs/req/hop unchanged within noise.
  '--max-semi-space-size=1',
  // Perf: GC on the main thread only. The proxy's heap is small (≈ 15 MB), so parallel scavenges and concurrent
  // marking gain nothing, but their helper threads cost CPU (counted in the process) and compete for the cores
  // with the event loops: A/B on the 2-core bench, mTLS hop 22.6 vs 25.3 µs CPU/req/hop (medians of 4), plain
  // hop unchanged, RSS unchanged.
  '--single-threaded-gc'
])

/** True when `argv` (the meshwork CLI arguments) starts a proxy process. */
export function isProxyCommand (argv: readonly string[]): boolean {
  return argv[0] === 'proxy'
}
