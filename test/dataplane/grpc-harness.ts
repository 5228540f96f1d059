/**
 * Harness of the gRPC end-to-end tests: real `@grpc/grpc-js` servers and clients (`@grpc/proto-loader` with
 * fixtures/grpc/echo.proto) around real proxies on loopback, port 0 everywhere.
 *
 *   grpc-js client ──h2c──▶ client sidecar (outbound) ══mTLS STRICT, ALPN h2══▶ server sidecar (inbound) ──h2c──▶ grpc-js server
 *
 * Every helper returns something to close in `after()`.
 */
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { type CertificateAuthority, createRootCa, issueTestIdentity, type TestIdentity } from '../../src/pki/index.ts'
import { startProxy, type RunningProxy } from './helpers.ts'

const PROTO = join(import.meta.dirname, 'fixtures', 'grpc', 'echo.proto')
const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, enums: String, defaults: true })
const pkg = grpc.loadPackageDefinition(definition) as unknown as { meshwork: { test: { Echo: grpc.ServiceClientConstructor } } }
export const Echo = pkg.meshwork.test.Echo

export interface EchoRequest { message?: string, status?: number, statusMessage?: string, count?: number, replyBytes?: number, payload?: Buffer, delayMs?: number }
export interface EchoReply { message: string, payload: Buffer, servedBy: string, index: number, receivedBytes: number }

export const TD = 'spiffe://cluster.local/ns/default/sa/'

/** Text and binary trailing metadata a failing call carries (`-bin` values are arbitrary bytes). */
export const DETAIL_BIN = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0x0a, 0x0d])

export interface EchoServer {
  server: grpc.Server
  port: number
  name: string
  /** Calls served, by method. */
  calls: Record<string, number>
  /** Request metadata of the last call (to check what the proxy forwarded). */
  lastMetadata: grpc.Metadata | null
  /** Milliseconds the last call had left when it arrived (from its grpc-timeout), Infinity without a deadline. */
  lastBudgetMs: number
  /** When the last server-streaming call had written its last message (Date.now()), and how often it waited for 'drain'. */
  streamWrittenAt: number
  streamDrains: number
  close (): Promise<void>
}

function trailing (md: grpc.Metadata, req: EchoRequest): grpc.Metadata {
  const t = new grpc.Metadata()
  const echo = md.get('x-echo')
  if (echo.length > 0) t.set('x-echo', String(echo[0]))
  if ((req.status ?? 0) !== 0) {
    t.set('x-detail', `detail of ${req.status}`)
    t.set('x-detail-bin', DETAIL_BIN)
  }
  return t
}

function statusOf (req: EchoRequest, md: grpc.Metadata): grpc.ServiceError | null {
  const code = req.status ?? 0
  if (code === 0) return null
  return Object.assign(new Error(req.statusMessage ?? ''), { code, details: req.statusMessage ?? '', metadata: trailing(md, req) }) as grpc.ServiceError
}

function reply (name: string, req: EchoRequest, index: number, receivedBytes: number): EchoReply {
  return { message: req.message ?? '', payload: Buffer.alloc(req.replyBytes ?? 0, 0x61), servedBy: name, index, receivedBytes }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** A grpc-js Echo server on 127.0.0.1 (h2c). */
export async function startEchoServer (name: string, options: grpc.ServerOptions = {}): Promise<EchoServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024, ...options })
  const state: EchoServer = { server, port: 0, name, calls: {}, lastMetadata: null, lastBudgetMs: Infinity, streamWrittenAt: 0, streamDrains: 0, close: async () => {} }
  const failures = new Map<string, number>()
  const count = (m: string, call: { metadata: grpc.Metadata, getDeadline (): grpc.Deadline }): void => {
    state.calls[m] = (state.calls[m] ?? 0) + 1
    state.lastMetadata = call.metadata
    const d = call.getDeadline()
    state.lastBudgetMs = d instanceof Date ? d.getTime() - Date.now() : d === Infinity ? Infinity : Number(d) - Date.now()
  }
  /** `fail-times:<n>:<key>` → UNAVAILABLE (trailers-only) for the first n calls with that key, then OK. */
  const flaky = (req: EchoRequest): grpc.ServiceError | null => {
    const m = /^fail-times:(\d+):/.exec(req.message ?? '')
    if (m === null) return null
    const seen = failures.get(req.message!) ?? 0
    failures.set(req.message!, seen + 1)
    return seen < Number(m[1]) ? Object.assign(new Error('flaky'), { code: 14, details: `failure ${seen + 1}`, metadata: new grpc.Metadata() }) as grpc.ServiceError : null
  }
  server.addService(Echo.service, {
    Unary: async (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      count('Unary', call)
      const req = call.request
      const flake = flaky(req)
      if (flake !== null) { cb(flake); return }
      if ((req.delayMs ?? 0) > 0) await sleep(req.delayMs!)
      const initial = new grpc.Metadata()
      initial.set('x-initial', 'yes')
      call.sendMetadata(initial)
      const err = statusOf(req, call.metadata)
      if (err !== null) { cb(err); return }
      cb(null, reply(name, req, 0, req.payload?.length ?? 0), trailing(call.metadata, req))
    },
    // biome-ignore lint/correctness/noComponentHookFactories: gRPC method names are capitalised (echo.proto), not React components
    ServerStream: async (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      count('ServerStream', call)
      const req = call.request
      const n = req.count ?? 1
      state.streamDrains = 0
      const one = reply(name, req, 0, 0)
      for (let i = 0; i < n; i++) {
        if (call.cancelled) return
        // honour backpressure: a slow client must hold the server back, not the proxy's memory
        // (a new object per message: grpc-js may serialize a queued write later; the payload buffer is shared)
        if (!call.write({ ...one, index: i })) { state.streamDrains++; await new Promise(resolve => call.once('drain', resolve)) }
        if ((req.delayMs ?? 0) > 0) await sleep(req.delayMs!)
      }
      state.streamWrittenAt = Date.now()
      const err = statusOf(req, call.metadata)
      if (err !== null) { call.emit('error', err); return }
      call.end(trailing(call.metadata, req))
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      count('ClientStream', call)
      let bytes = 0
      let last: EchoRequest = {}
      let messages = 0
      call.on('data', (r: EchoRequest) => { bytes += r.payload?.length ?? 0; last = r; messages++ })
      call.on('end', () => {
        const err = flaky(last) ?? statusOf(last, call.metadata)
        if (err !== null) { cb(err); return }
        cb(null, { ...reply(name, last, messages, bytes) }, trailing(call.metadata, last))
      })
    },
    // biome-ignore lint/correctness/noComponentHookFactories: gRPC method names are capitalised (echo.proto), not React components
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      count('Bidi', call)
      let i = 0
      let last: EchoRequest = {}
      call.on('data', (r: EchoRequest) => { last = r; call.write(reply(name, r, i++, r.payload?.length ?? 0)) })
      call.on('end', () => {
        const err = statusOf(last, call.metadata)
        if (err !== null) { call.emit('error', err); return }
        call.end(trailing(call.metadata, last))
      })
    }
  })
  state.port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => err ? reject(err) : resolve(port))
  })
  state.close = () => new Promise<void>(resolve => { server.tryShutdown(() => resolve()); setTimeout(() => { server.forceShutdown(); resolve() }, 2000).unref() })
  return state
}

/** A grpc-js Echo client to `address` (host:port) sending `:authority: authority` (h2c unless credentials say TLS). */
export function echoClient (address: string, authority: string, options: grpc.ChannelOptions = {}, creds = grpc.credentials.createInsecure()): grpc.Client & Record<string, (...args: never[]) => unknown> {
  return new Echo(address, creds, {
    'grpc.default_authority': authority,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    // one connection per client, no retries of its own: what the tests see is what the proxy did
    'grpc.enable_retries': 0,
    'grpc.use_local_subchannel_pool': 1,
    ...options
  }) as unknown as grpc.Client & Record<string, (...args: never[]) => unknown>
}

export interface UnaryResult { err: grpc.ServiceError | null, reply: EchoReply | null, initial: grpc.Metadata | null, trailing: grpc.Metadata | null }

/** One unary call, resolved with its error (if any), reply, initial and trailing metadata. */
export function unary (client: grpc.Client, req: EchoRequest, md = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<UnaryResult> {
  return new Promise(resolve => {
    const out: UnaryResult = { err: null, reply: null, initial: null, trailing: null }
    const call = (client as unknown as { Unary: (r: EchoRequest, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: EchoReply) => void) => grpc.ClientUnaryCall })
      .Unary(req, md, options, (err, r) => { out.err = err; out.reply = r ?? null; if (err?.metadata) out.trailing = err.metadata })
    call.on('metadata', m => { out.initial = m })
    call.on('status', s => { out.trailing = s.metadata; resolve(out) })
  })
}

export interface Mesh {
  client: RunningProxy
  server: RunningProxy
  servers: RunningProxy[]
  ids: Record<string, TestIdentity>
  root: CertificateAuthority
  caPem: string
  /** The endpoints of the server sidecars, as a caller's snapshot lists them. */
  endpoints: unknown[]
  close (): Promise<void>
}

/**
 * Client sidecar (outbound) → server sidecar (inbound, mTLS STRICT) → `appPorts[0]` (the app speaks h2). With several
 * app ports, the client sidecar knows one server sidecar per app port (balancing tests). `moreServices` are added
 * to the client sidecar's services.
 */
export async function startMesh (appPorts: number[], extraServer: Record<string, unknown> = {}, extraClient: Record<string, unknown> = {}, moreServices: unknown[] = []): Promise<Mesh> {
  const root = await createRootCa({ commonName: 'grpc test root', ttlMs: 3_600_000 })
  const ids = {
    echo: await issueTestIdentity(root, TD + 'echo', 3_600_000),
    client: await issueTestIdentity(root, TD + 'client', 3_600_000)
  }
  const tlsOf = (id: TestIdentity) => ({ certPem: id.certPem, keyPem: id.privateKeyPem, trustBundlePem: root.certPem })
  const servers: RunningProxy[] = []
  for (let i = 0; i < appPorts.length; i++) {
    const s = await startProxy(null, { inbound: true, tls: tlsOf(ids.echo) })
    const r = s.proxy.applySnapshot({
      version: 's1',
      node: { id: `echo-v1-${i}`, service: 'echo', version: 'v1' },
      mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
      localApp: { address: '127.0.0.1', port: appPorts[i], protocol: 'h2' },
      ...extraServer
    })
    if (!r.ok) throw r.error
    servers.push(s)
  }
  const endpoints = servers.map((s, i) => ({ id: `echo-v1-${i}`, address: '127.0.0.1', port: s.inbound, version: 'v1', tls: true, identity: TD + 'echo', protocol: 'http1', sidecar: true }))
  const client = await startProxy(null, { outbound: true, tls: tlsOf(ids.client) })
  const r = client.proxy.applySnapshot({
    version: 'c1',
    node: { id: 'client-v1-0', service: 'client' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 50051, endpoints }, ...moreServices],
    ...extraClient
  })
  if (!r.ok) throw r.error
  return {
    client,
    server: servers[0],
    servers,
    ids,
    root,
    caPem: root.certPem,
    endpoints,
    close: async () => { await client.close(); for (const s of servers) await s.close() }
  }
}

/**
 * One more server sidecar (identity `echo`, mTLS STRICT) in front of `appPort` (speaking `protocol`); returns it and
 * the endpoint a caller lists for it. `extra` is merged into its snapshot (policies, faults).
 */
export async function startServerSidecar (mesh: Mesh, id: string, appPort: number, extra: Record<string, unknown> = {}, protocol: 'h2' | 'http1' = 'h2'): Promise<{ proxy: RunningProxy, endpoint: Record<string, unknown> }> {
  const s = await startProxy(null, { inbound: true, tls: { certPem: mesh.ids.echo.certPem, keyPem: mesh.ids.echo.privateKeyPem, trustBundlePem: mesh.caPem } })
  const r = s.proxy.applySnapshot({
    version: 's1',
    node: { id, service: 'echo', version: 'v1' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: appPort, protocol },
    ...extra
  })
  if (!r.ok) throw r.error
  return { proxy: s, endpoint: { id, address: '127.0.0.1', port: s.inbound, version: 'v1', tls: true, identity: TD + 'echo', protocol: 'http1', sidecar: true } }
}

/** An ingress gateway proxy (identity `ingress`) in front of the mesh's echo sidecars; `snapshot` adds Gateway and routes. */
export async function startGateway (mesh: Mesh, extra: Record<string, unknown>): Promise<RunningProxy> {
  const id = await issueTestIdentity(mesh.root, TD + 'ingress', 3_600_000)
  const gw = await startProxy(null, { gateway: true, gatewayName: 'ingress', tls: { certPem: id.certPem, keyPem: id.privateKeyPem, trustBundlePem: mesh.caPem } })
  const r = gw.proxy.applySnapshot({
    version: 'g1',
    node: { id: 'ingress-0', role: 'ingress' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 50051, endpoints: mesh.endpoints }],
    ...extra
  })
  if (!r.ok) throw r.error
  return gw
}
