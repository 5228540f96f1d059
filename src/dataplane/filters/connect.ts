/**
 * HTTP CONNECT on the outbound listener: how a gRPC library configured with a proxy (`grpc_proxy`, `https_proxy`,
 * `http_proxy`, or grpc-js' `grpc.http_connect_target`) reaches the mesh. It sends `CONNECT reviews:9080` and then
 * speaks h2 (or HTTP/1.1) inside the tunnel as if to the service itself.
 *
 *   CONNECT <mesh authority> ─▶ 200 Connection Established ─▶ the connection is served as a new client connection
 *                                (listener.ts acceptTunnel: h2 or HTTP/1.1 sniffed), requests routed as usual by
 *                                their :authority / Host, defaulting to the CONNECT target
 *   CONNECT <unknown authority> ─▶ 404 MESH_ERR_NO_ROUTE          (the mesh has no such service)
 *   CONNECT on another listener, or over h2 ─▶ 405 MESH_ERR_CONNECT_REFUSED
 *   TLS inside the tunnel ─▶ closed (the proxy routes HTTP; an app that wants TLS to a mesh service uses the mesh's mTLS)
 *
 * Nothing is proxied blindly: the tunnel is not a TCP pipe to the target, every request in it goes through routing,
 * policies and telemetry like one sent to the outbound listener directly.
 *
 * @example
 * if (req.method === 'CONNECT') return connectHandler(ctx, ds, req, 'outbound')
 */
import { ConnectRefusedError, type MeshError, NoRouteError, NotReadyError } from '../../errors.ts'
import type { RequestHead } from '../http1/head-parser.ts'
import type { BodySink, Downstream } from '../listeners/downstream-connection.ts'
import { DISCARD_SINK } from '../listeners/downstream-connection.ts'
import { AuthorityResolver } from '../router/authority.ts'
import { Exchange } from './exchange.ts'
import type { PipelineContext } from './pipeline.ts'
import type { ProxyTables } from './tables.ts'

const resolvers = new WeakMap<ProxyTables, AuthorityResolver>()

export function connectHandler (ctx: PipelineContext, ds: Downstream, req: RequestHead, kind: 'outbound' | 'gateway' | 'inbound'): BodySink {
  const refuse = (err: MeshError): BodySink => {
    const ex = new Exchange(ds, req, kind, ctx.observer)
    ex.route = 'connect'
    ex.reject(err)
    return ex
  }
  if (kind !== 'outbound' || ds.openTunnel === undefined) {
    return refuse(new ConnectRefusedError(`CONNECT is served on the outbound listener only (HTTP/1.1); this is the ${kind} listener`))
  }
  const t = ctx.tables()
  if (t === null) return refuse(new NotReadyError('the proxy has no configuration yet'))
  let resolver = resolvers.get(t)
  if (resolver === undefined) resolvers.set(t, resolver = new AuthorityResolver(t.outbound.clusters, t.snapshot.node.namespace))
  if (resolver.resolve(req.authority) === null) return refuse(new NoRouteError(`CONNECT ${req.authority}: no such service in the mesh`))
  ds.openTunnel(req.authority)
  return DISCARD_SINK
}
