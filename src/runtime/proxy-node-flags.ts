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
  '--max-semi-space-size=1'
])

/** True when `argv` (the meshwork CLI arguments) starts a proxy process. */
export function isProxyCommand (argv: readonly string[]): boolean {
  return argv[0] === 'proxy'
}
