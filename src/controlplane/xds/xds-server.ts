/**
 * Envoy xDS v3 over gRPC (`@grpc/grpc-js`): `envoy.service.discovery.v3.AggregatedDiscoveryService` with
 * `StreamAggregatedResources` (state of the world) and `DeltaAggregatedResources` (delta), serving LDS,
 * RDS, CDS and EDS compiled from the registry's mesh view and endpoints.
 *
 *   registry 'change' ──► debounce (debounceMs after the last change, at most maxDelayMs after the first)
 *                     ──► per profile: LDS/RDS/CDS rebuilt if the view changed, EDS if the generation did
 *                     ──► every stream diffs what it subscribed against what it was sent, sends the rest
 *
 * Events: `client` (XdsStreamState, connected or not), `nack` (XdsStreamState, type, NackInfo), `pushed`.
 *
 * @example
 * const xds = new XdsServer(registry, { log })
 * const port = await xds.listen('127.0.0.1', 0)
 */
import { EventEmitter } from 'node:events'
import * as grpc from '@grpc/grpc-js'
import type { Endpoint } from '../../config/snapshot.ts'
import type { Registry } from '../registry.ts'
import { type DeltaDiscoveryRequest, DeltaStream } from './delta-stream.ts'
import { TO_OBJECT, TYPE_SHORT, TYPE_URL, type XdsTypeUrl, xdsType } from './protos.ts'
import { buildEndpointResources, ConfigResources, type XdsResource } from './resource-set.ts'
import { type DiscoveryRequest, SotwStream } from './sotw-stream.ts'
import type { StreamHost, XdsStreamState } from './stream-host.ts'
import type { NackInfo, TypeResources } from './subscriptions.ts'
import { profileKey, type XdsNode } from './xds-node.ts'

export interface XdsServerOptions {
  /** Quiet time after a change before pushing (a burst of changes makes one push). Default 10 ms. */
  debounceMs?: number
  /** Longest a change waits while changes keep coming. Default 100 ms. */
  maxDelayMs?: number
  log?: (line: string) => void
}

export interface XdsCounters {
  streams: number
  responses: number
  resourcesSent: number
  bytesSent: number
  acks: number
  nacks: number
  pushes: number
}

interface Profile {
  config: ConfigResources
  endpoints: Map<string, XdsResource>
  endpointsGeneration: number
  /** Type views handed to streams, rebuilt with the maps they read. */
  views: Map<XdsTypeUrl, TypeResources>
}

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService'

export class XdsServer extends EventEmitter implements StreamHost {
  readonly streams = new Map<number, XdsStreamState>()
  readonly counters: XdsCounters = { streams: 0, responses: 0, resourcesSent: 0, bytesSent: 0, acks: 0, nacks: 0, pushes: 0 }
  port = 0
  private readonly server = new grpc.Server()
  private readonly profiles = new Map<string, Profile>()
  private readonly debounceMs: number
  private readonly maxDelayMs: number
  private readonly log: (line: string) => void
  private timer: NodeJS.Timeout | null = null
  private firstChangeAt = 0
  private nonce = 0
  private streamSeq = 0
  private endpointCache: { generation: number, byService: Map<string, Endpoint[]> } = { generation: -1, byService: new Map() }
  private readonly onChange = (): void => this.schedulePush()

  constructor (private readonly registry: Registry, opts: XdsServerOptions = {}) {
    super()
    this.debounceMs = opts.debounceMs ?? 10
    this.maxDelayMs = opts.maxDelayMs ?? 100
    this.log = opts.log ?? (() => {})
    this.server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>) => this.attach(new SotwStream(++this.streamSeq, call, this), call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, unknown>) => this.attach(new DeltaStream(++this.streamSeq, call, this), call)
    })
    registry.on('change', this.onChange)
  }

  /** Bind (plain-text gRPC: loopback by default, like the control plane's HTTP port). Returns the port. */
  async listen (host: string, port: number): Promise<number> {
    const bracketed = host.includes(':') ? `[${host}]` : host
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${bracketed}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)))
    })
    return this.port
  }

  private attach (stream: SotwStream | DeltaStream, call: grpc.ServerDuplexStream<DiscoveryRequest, unknown> | grpc.ServerDuplexStream<DeltaDiscoveryRequest, unknown>): void {
    this.streams.set(stream.id, stream)
    this.counters.streams++
    const done = (): void => {
      if (!this.streams.delete(stream.id)) return
      this.emit('client', stream, false)
    }
    call.on('data', (req: DiscoveryRequest & DeltaDiscoveryRequest) => {
      try {
        stream.onRequest(req)
      } catch (err) {
        // A compiler bug must not take the server down: this stream ends, the client reconnects.
        this.log(`xds: stream ${stream.id} (${stream.node?.id ?? '?'}): ${(err as Error)?.stack ?? err}`)
        call.destroy(err as Error)
      }
    })
    call.on('end', () => { stream.close(); done() })
    call.on('cancelled', done)
    call.on('error', done)
    call.on('close', done)
  }

  // ---- StreamHost ----

  generation (): number { return this.registry.generation }
  nextNonce (): string { return String(++this.nonce) }

  identified (stream: XdsStreamState): void {
    const n = stream.node!
    this.log(`xds: ${stream.protocol} stream ${stream.id} from ${n.id} (${n.kind}, endpoints ${n.endpoints}, ${n.userAgent || 'no user agent'}) at ${stream.peer}`)
    this.emit('client', stream, true)
  }

  responded (_stream: XdsStreamState, _type: XdsTypeUrl, resources: number, bytes: number): void {
    this.counters.responses++
    this.counters.resourcesSent += resources
    this.counters.bytesSent += bytes
  }

  acked (stream: XdsStreamState, type: XdsTypeUrl): void {
    this.counters.acks++
    this.emit('ack', stream, type)
  }

  nacked (stream: XdsStreamState, type: XdsTypeUrl, nack: NackInfo): void {
    this.counters.nacks++
    this.log(`xds: ${stream.node?.id} NACKed ${TYPE_SHORT[type]} version ${nack.version}: ${nack.message}`)
    this.emit('nack', stream, type, nack)
  }

  resources (node: XdsNode, type: XdsTypeUrl): TypeResources {
    return this.profile(node).views.get(type)!
  }

  // ---- compile, cache, push ----

  private profile (node: XdsNode): Profile {
    const key = profileKey(node)
    let p = this.profiles.get(key)
    const view = this.registry.view
    if (p === undefined || p.config.view !== view) {
      const config = new ConfigResources(view, node, this.registry.trustDomain)
      p = { config, endpoints: new Map(), endpointsGeneration: -1, views: new Map() }
      this.profiles.set(key, p)
    }
    if (p.endpointsGeneration !== this.registry.generation) {
      p.endpoints = buildEndpointResources(p.config, this.registry, node, (ns, s) => this.endpointsOf(ns, s))
      p.endpointsGeneration = this.registry.generation
      const config = p.config
      const lds = config.byType.get(TYPE_URL.listener)!
      const rds = config.byType.get(TYPE_URL.route)!
      const cds = config.byType.get(TYPE_URL.cluster)!
      const eds = p.endpoints
      p.views = new Map<XdsTypeUrl, TypeResources>([
        [TYPE_URL.listener, { get: n => config.listener(n), all: () => lds.values() }],
        [TYPE_URL.route, { get: n => rds.get(n), all: () => rds.values() }],
        [TYPE_URL.cluster, { get: n => cds.get(n), all: () => cds.values() }],
        [TYPE_URL.endpoint, { get: n => eds.get(n), all: () => eds.values() }]
      ])
    }
    return p
  }

  // Perf: endpoints of a service are listed once per generation for every profile (the registry scans its proxies).
  private endpointsOf (namespace: string, service: string): Endpoint[] {
    const g = this.registry.generation
    if (this.endpointCache.generation !== g) this.endpointCache = { generation: g, byService: new Map() }
    const key = `${namespace}/${service}`
    let eps = this.endpointCache.byService.get(key)
    if (eps === undefined) { eps = this.registry.endpoints(namespace, service); this.endpointCache.byService.set(key, eps) }
    return eps
  }

  private schedulePush (): void {
    const now = Date.now()
    if (this.timer === null) this.firstChangeAt = now
    else clearTimeout(this.timer)
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstChangeAt + this.maxDelayMs - now))
    this.timer = setTimeout(() => { this.timer = null; this.pushAll() }, wait)
    this.timer.unref()
  }

  /** Send every stream what changed for it. */
  pushAll (): void {
    this.counters.pushes++
    // Drop profiles no stream uses any more (clients come and go; their compiled sets must not pile up).
    const used = new Set<string>()
    for (const s of this.streams.values()) if (s.node !== null) used.add(profileKey(s.node))
    for (const k of this.profiles.keys()) if (!used.has(k)) this.profiles.delete(k)
    for (const s of this.streams.values()) {
      try {
        s.push()
      } catch (err) {
        this.log(`xds: cannot push to ${s.node?.id}: ${(err as Error)?.stack ?? err}`)
      }
    }
    this.emit('pushed', this.registry.generation)
  }

  async close (): Promise<void> {
    this.registry.off('change', this.onChange)
    if (this.timer !== null) clearTimeout(this.timer)
    for (const s of this.streams.values()) s.close()
    await new Promise<void>(resolve => this.server.tryShutdown(() => resolve()))
    this.server.forceShutdown()
  }
}

/** The ADS service definition for grpc-js, with protobufjs (de)serializers of Envoy's own messages. */
export function adsServiceDefinition (): grpc.ServiceDefinition {
  const codec = (name: string) => {
    const type = xdsType(name)
    return {
      serialize: (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value)).finish()),
      deserialize: (bytes: Buffer): object => type.toObject(type.decode(bytes), { ...TO_OBJECT, defaults: true })
    }
  }
  const sotwReq = codec('envoy.service.discovery.v3.DiscoveryRequest')
  const sotwRes = codec('envoy.service.discovery.v3.DiscoveryResponse')
  const deltaReq = codec('envoy.service.discovery.v3.DeltaDiscoveryRequest')
  const deltaRes = codec('envoy.service.discovery.v3.DeltaDiscoveryResponse')
  const method = (name: string, req: ReturnType<typeof codec>, res: ReturnType<typeof codec>) => ({
    path: `/${SERVICE}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
    originalName: name
  })
  return {
    StreamAggregatedResources: method('StreamAggregatedResources', sotwReq, sotwRes),
    DeltaAggregatedResources: method('DeltaAggregatedResources', deltaReq, deltaRes)
  } as grpc.ServiceDefinition
}
