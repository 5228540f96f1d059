// The conformance echo backend: answers every request with what it received, in the JSON shape of the Gateway
// API suite's echo-basic (path, host, method, proto, headers, namespace, ingress, service, pod), so the runner
// checks the same fields. Written for Meshwork's runner (Apache-2.0), sharing no code with echo-basic.
//
// Env: PORT (set by the runtime), NAMESPACE (else POD_NAMESPACE), POD_NAME (else INSTANCE_ID), SERVICE_NAME.
// - `?delay=1s` (or `500ms`) waits that long before answering, as echo-basic's `delay` (the timeout cases).
// - `X-Echo-Set-Header: Name:value,Name2:value2` sets those response headers (as echo-basic).
// - `GET /__conformance/log?since=N` (answered on the app port only by the runner, never routed) lists the
//   requests received so far, so the runner can check that a mirror got its copy.
import { createServer } from 'node:http'

const env = process.env
const namespace = env.NAMESPACE ?? env.POD_NAMESPACE ?? 'default'
const pod = env.POD_NAME ?? env.INSTANCE_ID ?? 'echo'
const service = env.SERVICE_NAME ?? ''
/** @type {{ n: number, path: string, host: string, method: string, headers: Record<string, string[]> }[]} */
const log = []
let seq = 0

function ms (text) {
  const m = /^([0-9.]+)(ms|s|m)?$/.exec(text ?? '')
  if (m === null) return 0
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
}

/** Go's canonical MIME header key (`x-header-set` → `X-Header-Set`), as echo-basic reports names. */
function canonical (name) {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, d, c) => d + c.toUpperCase())
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/__conformance/log') {
    const since = Number(url.searchParams.get('since') ?? 0)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ seq, entries: log.filter(e => e.n > since) }))
    return
  }
  const headers = {}
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = canonical(req.rawHeaders[i])
    ;(headers[name] ??= []).push(req.rawHeaders[i + 1])
  }
  const entry = { n: ++seq, path: req.url ?? '/', host: req.headers.host ?? '', method: req.method ?? 'GET', headers }
  log.push(entry)
  if (log.length > 2000) log.splice(0, 1000)
  const body = JSON.stringify({ path: entry.path, host: entry.host, method: entry.method, proto: `HTTP/${req.httpVersion}`, headers, namespace, ingress: '', service, pod })
  const setHeader = req.headers['x-echo-set-header']
  if (typeof setHeader === 'string') {
    for (const pair of setHeader.split(',')) {
      const colon = pair.indexOf(':')
      if (colon > 0) res.setHeader(pair.slice(0, colon).trim(), pair.slice(colon + 1).trim())
    }
  }
  const answer = () => {
    res.setHeader('content-type', 'application/json')
    res.setHeader('x-content-type-options', 'nosniff')
    res.end(body)
  }
  req.resume()
  req.on('end', () => {
    const delay = ms(url.searchParams.get('delay') ?? undefined)
    if (delay > 0) setTimeout(answer, delay)
    else answer()
  })
})
server.keepAliveTimeout = 30_000
server.listen(Number(env.PORT ?? 8080), env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
