import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { MeshError } from '../../errors.ts'
import type { SidecarOptions } from './sidecar.ts'
import { handleAdmissionReview } from './webhook.ts'

/** AdmissionReviews of pods are small; a bigger body is not one. */
const MAX_BODY = 4 * 1024 * 1024

export interface InjectorServerOptions extends SidecarOptions {
  host?: string
  /** 0 = any free port. */
  port?: number
  /** PEM serving certificate and key; the API server only calls webhooks over HTTPS. Omit for plain HTTP (tests). */
  tls?: { certPem: string, keyPem: string }
}

export interface InjectorServer { url: string, close (): Promise<void> }

/**
 * Serve the sidecar injector: `POST /inject` (AdmissionReview in, AdmissionReview out) and `GET /ready`.
 *
 * @example
 * const srv = await startInjectorServer({ port: 8443, tls: { certPem, keyPem }, image, controlPlane })
 */
export async function startInjectorServer (opts: InjectorServerOptions): Promise<InjectorServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => { handle(req, res, opts) }
  const server: Server = opts.tls !== undefined ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler) : createHttpServer(handler)
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 8443, opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `${opts.tls !== undefined ? 'https' : 'http'}://${host}:${addr.port}`,
    close: () => new Promise<void>(resolve => { server.close(() => resolve()); server.closeAllConnections() })
  }
}

function handle (req: IncomingMessage, res: ServerResponse, opts: SidecarOptions): void {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method === 'GET' && path === '/ready') { send(res, 200, { ready: true }); return }
  if (path !== '/inject') { send(res, 404, { code: 'MESH_ERR_API_NOT_FOUND', message: `no route ${path}` }); return }
  if (req.method !== 'POST') { send(res, 405, { code: 'MESH_ERR_API_BAD_REQUEST', message: 'POST an AdmissionReview' }); return }
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size > MAX_BODY) { send(res, 413, { code: 'MESH_ERR_ADMISSION_REVIEW_INVALID', message: 'body too large' }); req.destroy() } else chunks.push(c)
  })
  req.on('end', () => {
    if (res.headersSent) return
    let review: unknown
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      send(res, 400, { code: 'MESH_ERR_ADMISSION_REVIEW_INVALID', message: 'body is not JSON' })
      return
    }
    try {
      send(res, 200, handleAdmissionReview(review, opts))
    } catch (err) {
      if (err instanceof MeshError) send(res, err.status, { code: err.code, message: err.message })
      else send(res, 500, { code: 'MESH_ERR', message: (err as Error).message })
    }
  })
}

function send (res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
