// gRPC plumbing of the Bookinfo sample: the `stars` API (stars.proto) for its server and its callers.
// Callers are plain @grpc/grpc-js clients dialing `stars:9080`: the runtime sets `http_proxy` to the sidecar's
// outbound listener, and grpc-js, like most gRPC libraries, then opens an HTTP CONNECT tunnel to it and speaks
// h2 inside; the sidecar routes each call by its `:authority` (GRPCRoute, balancing per call, retries, metrics).
// Nothing here is mesh-specific: without a proxy the same client dials `stars` by DNS.
import grpc from '@grpc/grpc-js'
import protoLoader from '@grpc/proto-loader'
import { PROPAGATED, SERVICE_PORT } from './lib.mjs'

const definition = protoLoader.loadSync(new URL('./stars.proto', import.meta.url).pathname, { longs: Number, defaults: true })
export const starsPackage = grpc.loadPackageDefinition(definition).bookinfo.stars.v1
export { grpc }

let client = null

/** The one channel of this process to `stars` (gRPC multiplexes every call on it). */
export function starsClient () {
  client ??= new starsPackage.Stars(`stars:${SERVICE_PORT}`, grpc.credentials.createInsecure())
  return client
}

/**
 * Call Stars/GetStars for the request being served: trace context, deadline budget and user travel as gRPC
 * metadata, as they travel as headers on the HTTP calls. Resolves to the reply; rejects with the gRPC error
 * (`err.code` is the numeric status, `err.details` the message).
 */
export function getStars (incoming, productId, timeoutMs = 3000) {
  const md = new grpc.Metadata()
  for (const name of PROPAGATED) {
    const v = incoming.headers[name]
    // meshwork-timeout travels as the call's own deadline (grpc-timeout), below
    if (v !== undefined && name !== 'meshwork-timeout') md.set(name, String(v))
  }
  return new Promise((resolve, reject) => {
    starsClient().getStars({ productId }, md, { deadline: Date.now() + timeoutMs }, (err, reply) => err ? reject(err) : resolve(reply))
  })
}
