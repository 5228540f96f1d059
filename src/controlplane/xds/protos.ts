/**
 * Envoy's published xDS v3 protos, loaded with protobufjs from the npm package `@grpc/grpc-js-xds`
 * (`deps/envoy-api`, `deps/xds`, `deps/googleapis`, `deps/protoc-gen-validate`); nothing is copied into this
 * repository. Loaded once, on first use (≈ 200 ms, ≈ 30 MB), so a control plane without `--xds-port` pays
 * nothing.
 *
 * Field names are the protos' own (`keepCase`: `eds_cluster_config`, not `edsClusterConfig`).
 *
 * @example
 * const Cluster = xdsType('envoy.config.cluster.v3.Cluster')
 * const bytes = Cluster.encode(Cluster.fromObject({ name: 'reviews', type: 'EDS' })).finish()
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join } from 'node:path'
import protobuf from 'protobufjs'

const require = createRequire(import.meta.url)

/** Files whose messages Meshwork sends or reads; their imports come along. */
const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto'
]

/** `type.googleapis.com/<full name>` of the four discovery types. */
export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'
} as const
export type XdsTypeUrl = typeof TYPE_URL[keyof typeof TYPE_URL]
export const TYPE_URLS: readonly XdsTypeUrl[] = [TYPE_URL.listener, TYPE_URL.route, TYPE_URL.cluster, TYPE_URL.endpoint]

/** Short names used in listings and logs: LDS, RDS, CDS, EDS. */
export const TYPE_SHORT: Record<XdsTypeUrl, 'LDS' | 'RDS' | 'CDS' | 'EDS'> = {
  [TYPE_URL.listener]: 'LDS',
  [TYPE_URL.route]: 'RDS',
  [TYPE_URL.cluster]: 'CDS',
  [TYPE_URL.endpoint]: 'EDS'
}

/** Where the protos live: the grpc-js-xds package's `deps/`, plus protobufjs' own `google/protobuf/descriptor.proto`. */
export function protoIncludeDirs (): string[] {
  const xdsPkg = dirname(dirname(dirname(require.resolve('@grpc/grpc-js-xds'))))
  const deps = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map(d => join(xdsPkg, 'deps', d))
  return [...deps, dirname(require.resolve('protobufjs/package.json'))]
}

let root: protobuf.Root | null = null

/** The loaded root (all files of {@link PROTO_FILES} and their imports, resolved). */
export function xdsRoot (): protobuf.Root {
  if (root !== null) return root
  const dirs = protoIncludeDirs()
  const r = new protobuf.Root()
  r.resolvePath = (_origin: string, target: string): string => {
    if (isAbsolute(target)) return target
    for (const d of dirs) {
      const full = join(d, target)
      if (existsSync(full)) return full
    }
    return target
  }
  r.loadSync(PROTO_FILES, { keepCase: true })
  r.resolveAll()
  root = r
  return r
}

/** A message type by full name (`envoy.config.cluster.v3.Cluster`); throws when the protos lack it. */
export function xdsType (fullName: string): protobuf.Type {
  return xdsRoot().lookupType(fullName)
}

export interface AnyMessage { type_url: string, value: Uint8Array }

/**
 * Encode `value` (proto field names) as the message `fullName` and wrap it in a `google.protobuf.Any`.
 * Throws when `value` does not verify against the type (a wrong field type, an enum name that does not exist).
 */
export function packAny (fullName: string, value: Record<string, unknown>): AnyMessage {
  const type = xdsType(fullName)
  // protobufjs drops unknown keys silently: a misspelt field would vanish from what Envoy gets.
  assertKnownFields(type, value, fullName)
  const message = type.fromObject(value)
  const problem = type.verify(message)
  if (problem !== null) throw new TypeError(`${fullName}: ${problem}`)
  return { type_url: `type.googleapis.com/${fullName}`, value: type.encode(message).finish() }
}

/** Throws on a key that is not a field of `type` (recursing into nested messages, maps and lists). */
function assertKnownFields (type: protobuf.Type, value: unknown, path: string): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return
  // Well-known types with protobufjs' own (camelCase) field names, and Any (packed already).
  if (type.fullName.startsWith('.google.protobuf.')) return
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key]
    if (field === undefined) throw new TypeError(`${path}.${key}: no such field in ${type.fullName.slice(1)}`)
    field.resolve()
    if (!(field.resolvedType instanceof protobuf.Type) || v === null || v === undefined) continue
    if (field.map) for (const [k, x] of Object.entries(v as object)) assertKnownFields(field.resolvedType, x, `${path}.${key}[${k}]`)
    else if (Array.isArray(v)) v.forEach((x, i) => assertKnownFields(field.resolvedType as protobuf.Type, x, `${path}.${key}[${i}]`))
    else assertKnownFields(field.resolvedType, v, `${path}.${key}`)
  }
}

/** Decode an Any back into a plain object (longs and enums as strings, oneof names set) — for tests and listings. */
export function unpackAny (any: AnyMessage): Record<string, unknown> {
  const type = xdsType(any.type_url.slice(any.type_url.lastIndexOf('/') + 1))
  return type.toObject(type.decode(any.value), TO_OBJECT) as Record<string, unknown>
}

export const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: Buffer, defaults: false, oneofs: true }
