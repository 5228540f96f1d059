/**
 * Harness for the xDS tests: real gRPC servers (@grpc/grpc-js) registered as endpoints through the control
 * plane's own stream API, and a proxyless gRPC app (@grpc/grpc-js-xds) in a child process that reads its
 * bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const PROTO = new URL('./fixtures/reviews.proto', import.meta.url).pathname
export const XDS_MESH = new URL('./fixtures/mesh.yaml', import.meta.url).pathname
const APP = new URL('./fixtures/xds-app.mjs', import.meta.url).pathname

export interface Backend {
  instance: string
  port: number
  calls: number
  /** subjectAltName of the client certificates seen (TLS backends). */
  peerSans: Set<string>
  close (): Promise<void>
}

/** A Reviews gRPC server answering with its instance name; failures and delays come from the request. */
export async function startBackend (instance: string, tls?: { certPem: string, keyPem: string, caPem: string }): Promise<Backend> {
  const def = protoLoader.loadSync(PROTO, { keepCase: true })
  const svc = (grpc.loadPackageDefinition(def) as any).meshwork.test.Reviews.service
  const attempts = new Map<string, number>()
  const server = new grpc.Server()
  const backend: Backend = { instance, port: 0, calls: 0, peerSans: new Set(), close: async () => { server.forceShutdown() } }
  server.addService(svc, {
    Get: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      backend.calls++
      const san = call.getAuthContext().sslPeerCertificate?.subjectaltname
      if (san) backend.peerSans.add(san)
      const req = call.request
      const attempt = (attempts.get(req.key) ?? 0) + 1
      attempts.set(req.key, attempt)
      if (attempts.size > 10_000) attempts.clear()
      const answer = (): void => {
        if (attempt <= req.fail_times) cb({ code: req.fail_code || grpc.status.UNAVAILABLE, details: `${instance} fails attempt ${attempt}` })
        else cb(null, { instance, attempt })
      }
      if (req.sleep_ms > 0) setTimeout(answer, req.sleep_ms)
      else answer()
    }
  })
  const creds = tls
    ? grpc.ServerCredentials.createSsl(Buffer.from(tls.caPem), [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }], true)
    : grpc.ServerCredentials.createInsecure()
  backend.port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))))
  return backend
}

/**
 * Register an instance the way a sidecar does: `POST /v1/stream` with its hello, then report its app
 * healthy. `app` is the gRPC server's port (endpoints `app`), `inbound` the port callers with mTLS dial.
 */
export async function registerInstance (cpUrl: string, hello: { id: string, service: string, version: string, app: number, inbound?: number }): Promise<{ close (): void }> {
  const body = JSON.stringify({ id: hello.id, role: 'sidecar', service: hello.service, version: hello.version, app: { host: '127.0.0.1', port: hello.app }, inbound: { host: '127.0.0.1', port: hello.inbound ?? hello.app } })
  const url = new URL('/v1/stream', cpUrl)
  const { req, streamId } = await new Promise<{ req: ReturnType<typeof request>, streamId: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, res => {
      const lines = createInterface({ input: res })
      lines.once('line', line => resolve({ req, streamId: JSON.parse(line).streamId }))
      lines.on('error', () => {}) // readline re-emits the response's 'aborted' when the test ends the stream
      res.on('error', () => {})
    })
    req.on('error', reject)
    req.end(body)
  })
  const health = JSON.stringify({ streamId, healthy: true })
  await fetch(new URL('/v1/health', cpUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: health })
  return { close: () => req.destroy() }
}

export interface CallResult { id: number, instances: Record<string, number>, codes: Record<string, number>, latenciesMs: number[], errors: string[], fatal?: string }

/** The proxyless gRPC app (child process); `call()` runs a batch of unary calls and returns the tally. */
export class XdsApp {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting = new Map<number, (r: CallResult) => void>()
  private seq = 0
  stderr = ''

  constructor (bootstrap: object, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [APP], { env: { ...process.env, ...env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) }, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.on('data', d => { this.stderr = (this.stderr + d).slice(-20_000) })
    createInterface({ input: this.child.stdout }).on('line', line => {
      const r = JSON.parse(line) as CallResult
      this.waiting.get(r.id)?.(r)
      this.waiting.delete(r.id)
    })
  }

  call (cmd: { target: string, calls?: number, concurrency?: number, creds?: 'insecure' | 'xds', deadlineMs?: number, metadata?: Record<string, string>, request?: Record<string, unknown> }): Promise<CallResult> {
    const id = ++this.seq
    return new Promise((resolve, reject) => {
      this.waiting.set(id, r => (r.fatal ? reject(new Error(r.fatal)) : resolve(r)))
      this.child.stdin.write(JSON.stringify({ ...cmd, id }) + '\n')
    })
  }

  /** Repeat `cmd` until `pred` holds on a batch (the client follows a push), or fail after `timeoutMs`. */
  async until (cmd: Parameters<XdsApp['call']>[0], pred: (r: CallResult) => boolean, timeoutMs = 10_000): Promise<CallResult> {
    const start = Date.now()
    for (;;) {
      const r = await this.call(cmd)
      if (pred(r)) return r
      if (Date.now() - start > timeoutMs) throw new Error(`xds app: condition not reached in ${timeoutMs} ms; last ${JSON.stringify(r)}; stderr ${this.stderr.slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  async close (): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.stdin.end()
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(t)
  }
}

/**
 * A bare ADS client: @grpc/grpc-js carrying Envoy's DiscoveryRequest/DeltaDiscoveryRequest messages
 * (encoded by protobufjs from the published protos). It speaks the protocol step by step, so tests can
 * send what Envoy would (ACKs, NACKs, stale nonces, subscription deltas) and read each response.
 */
export class AdsClient {
  private readonly client: grpc.Client
  private readonly call: grpc.ClientDuplexStream<object, any>
  private readonly queue: any[] = []
  private waiter: ((r: any) => void) | null = null
  ended = false

  constructor (address: string, mode: 'sotw' | 'delta', def: grpc.ServiceDefinition) {
    const Ctor = grpc.makeGenericClientConstructor(def, 'ADS')
    this.client = new Ctor(address, grpc.credentials.createInsecure())
    this.call = (this.client as any)[mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources']()
    this.call.on('data', (r: any) => { if (this.waiter) { const w = this.waiter; this.waiter = null; w(r) } else this.queue.push(r) })
    this.call.on('error', () => { this.ended = true })
    this.call.on('end', () => { this.ended = true })
  }

  send (req: object): void { this.call.write(req) }

  /** The next response, or null when none comes within `ms`. */
  next (ms = 3000): Promise<any> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift())
    return new Promise(resolve => {
      const t = setTimeout(() => { this.waiter = null; resolve(null) }, ms)
      this.waiter = r => { clearTimeout(t); resolve(r) }
    })
  }

  close (): void {
    this.call.cancel()
    this.client.close()
  }
}
