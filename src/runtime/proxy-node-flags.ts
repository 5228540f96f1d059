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
  // Perf: V8 on the main thread only (implies --single-threaded-gc; also no concurrent TurboFan/Sparkplug
  // compilation and no other background tasks). The proxy's heap is small (≈ 15 MB), so parallel scavenges and
  // concurrent marking gain nothing, but helper threads cost CPU (counted in the process), compete for the cores
  // with the event loops, and each keeps its own malloc arena. --single-threaded-gc alone: mTLS hop 22.6 vs 25.3
  // µs CPU/req/hop (medians of 4), RSS unchanged. --single-threaded over --single-threaded-gc (runs alternated,
  // 3 each, BENCH_SCENARIOS=meshwork-1,meshwork-2-mtls,nginx-2-tls BENCH_ROUNDS=1 BENCH_DURATION=6): RSS 2-hop
  // proxy 58.2–58.7 vs 60.1–61.5 MB, 1-hop 56.4–56.6 vs 57.6–58.1 MB; CPU/req/hop mTLS 20.4 vs 22.4, plain 14.7
  // vs 14.0 (medians, within noise). Optimising compiles then run on the event loop: a few ms at warm-up only.
  '--single-threaded',
  // Memory: exposes gc() to the proxy's heap trim (src/dataplane/heap-trim.ts), which collects the old generation
  // after 2 MB of growth instead of V8's 8 MB step, so the RSS stays flat under a steady load (bench/soak.ts).
  '--expose-gc'
])

/** True when `argv` (the meshwork CLI arguments) starts a proxy process. */
export function isProxyCommand (argv: readonly string[]): boolean {
  return argv[0] === 'proxy'
}
