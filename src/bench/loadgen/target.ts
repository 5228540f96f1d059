import type { LoadOptions } from './options.ts'

/** Everything a connection needs to dial and send, computed once per worker. */
export interface Target {
  secure: boolean
  host: string
  port: number
  /** Path with query, e.g. `/api?x=1`. */
  path: string
  authority: string
  method: string
  headers: Record<string, string>
  body: Buffer | null
  tls: LoadOptions['tls']
  timeoutMs: number
  connectTimeoutMs: number
}

export function targetFrom (o: LoadOptions): Target {
  const u = new URL(o.url)
  const secure = u.protocol === 'https:'
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return {
    secure,
    host,
    port: u.port === '' ? (secure ? 443 : 80) : Number(u.port),
    path: (u.pathname || '/') + u.search,
    authority: u.host,
    method: o.method,
    headers: o.headers,
    body: o.body === undefined ? null : Buffer.from(o.body),
    tls: o.tls,
    timeoutMs: o.timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs
  }
}

/** The HTTP/1.1 request bytes, encoded once and written as-is for every request. */
export function encodeH1Request (t: Target): Buffer {
  const lines = [`${t.method} ${t.path} HTTP/1.1`]
  let hasHost = false
  for (const [k, v] of Object.entries(t.headers)) {
    const lk = k.toLowerCase()
    if (lk === 'host') hasHost = true
    if (lk === 'content-length' || lk === 'connection' || lk === 'transfer-encoding') continue
    lines.push(`${k}: ${v}`)
  }
  if (!hasHost) lines.splice(1, 0, `Host: ${t.authority}`)
  if (t.body !== null) lines.push(`Content-Length: ${t.body.length}`)
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1')
  return t.body === null ? head : Buffer.concat([head, t.body])
}
