// Shared plumbing of the Bookinfo sample apps: plain node:http, no dependencies.
// Every app listens on $PORT (127.0.0.1 unless $HOST), answers /healthz, and calls other services through
// the sidecar's outbound listener ($HTTP_PROXY) with an origin-form request and `Host: <service>:9080`,
// forwarding the trace and deadline headers of the request it is serving.
import http from 'node:http'

/** Headers copied from the incoming request to every call the app makes (trace context, deadline, user). */
export const PROPAGATED = [
  'traceparent', 'tracestate',
  'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags',
  'x-request-id', 'meshwork-timeout', 'end-user'
]

export const SERVICE_PORT = 9080

const proxyUrl = process.env.HTTP_PROXY || process.env.http_proxy || ''
const proxy = proxyUrl === '' ? null : new URL(proxyUrl)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

/** Version and instance of this process, as the runtime sets them. */
export const identity = {
  service: process.env.SERVICE_NAME || 'unknown',
  version: process.env.SERVICE_VERSION || 'v1',
  instance: process.env.INSTANCE_ID || `${process.env.SERVICE_NAME || 'app'}-${process.pid}`
}

/**
 * GET `path` of `service` (`reviews`, `reviews-v2`…) through the mesh; resolves to `{ status, body }` with
 * the JSON body parsed, or rejects on a network error or timeout.
 */
export function callService (incoming, service, path, timeoutMs = 10_000) {
  const headers = { host: `${service}:${SERVICE_PORT}`, accept: 'application/json' }
  for (const name of PROPAGATED) {
    const v = incoming.headers[name]
    if (v !== undefined) headers[name] = v
  }
  const target = proxy === null
    ? { host: service, port: SERVICE_PORT, path }
    : { host: proxy.hostname, port: Number(proxy.port || 80), path }
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, method: 'GET', headers, agent, timeout: timeoutMs }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body = text
        if ((res.headers['content-type'] || '').includes('json')) {
          try { body = JSON.parse(text) } catch { /* keep the text */ }
        }
        resolve({ status: res.statusCode, headers: res.headers, body })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error(`${service} did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end()
  })
}

export function sendJson (res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function sendText (res, status, type, text) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * Start the app: `handler(req, res, url)` serves everything but `/healthz`. Exits cleanly on SIGTERM/SIGINT.
 * @example serve(async (req, res, url) => sendJson(res, 200, { ok: true }))
 */
export function serve (handler) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://app')
    if (url.pathname === '/healthz') return sendText(res, 200, 'text/plain', 'ok\n')
    Promise.resolve(handler(req, res, url)).catch(err => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err?.message ?? err) })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 65_000
  const port = Number(process.env.PORT || 9080)
  server.listen(port, process.env.HOST || '127.0.0.1', () => {
    process.stdout.write(`${identity.service} ${identity.version} (${identity.instance}) listening on ${server.address().port}\n`)
  })
  const stop = () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Started by `meshwork up` with a stdin pipe: its end means the runtime died (even by SIGKILL); do not
  // linger as an orphan.
  if (process.env.MESHWORK_EXIT_ON_STDIN_EOF === '1') process.stdin.on('end', stop).on('error', stop).resume()
  return server
}

/** Last path segment as a product id (`/reviews/0` → 0), or null. */
export function idFrom (pathname, prefix) {
  const m = new RegExp(`^${prefix}/([0-9]+)$`).exec(pathname)
  return m === null ? null : Number(m[1])
}
