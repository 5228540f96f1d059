/**
 * GRPCRoute → HTTP route terms, for the meshes whose routing API has no gRPC matches of its own (Istio's
 * VirtualService, Consul's service-router). A gRPC call is an HTTP/2 POST to `/<package.Service>/<Method>`, so a
 * method match is a path match, written as Istio itself converts GRPCRoutes (pilot's `createGRPCURIMatch`):
 *
 * | GRPCMethodMatch                      | path match                         |
 * |--------------------------------------|------------------------------------|
 * | Exact service + method               | Exact `/S/M`                       |
 * | Exact service                        | PathPrefix `/S/` (Istio: prefix)   |
 * | Exact method                         | RegularExpression `/[^/]+/M`       |
 * | RegularExpression service and/or M   | RegularExpression `/S/M` (`[^/]+` for the absent part) |
 * | none                                 | PathPrefix `/` (every request)     |
 */
import type { GrpcRouteMatch, GrpcRouteRule } from '../config/grpc-route.ts'
import type { RouteFilter, RouteMatch, RouteRule } from '../config/http-route.ts'

/** Path match of a GRPCRouteMatch; `prefix` values end with `/` (Istio and Consul prefixes are string prefixes). */
export function grpcPathMatch (m: GrpcRouteMatch): NonNullable<RouteMatch['path']> {
  const service = m.method?.service || undefined
  const method = m.method?.method || undefined
  if (service === undefined && method === undefined) return { type: 'PathPrefix', value: '/' }
  if (m.method?.type === 'RegularExpression') return { type: 'RegularExpression', value: `/${service ?? '[^/]+'}/${method ?? '[^/]+'}` }
  if (service !== undefined && method !== undefined) return { type: 'Exact', value: `/${service}/${method}` }
  if (service !== undefined) return { type: 'PathPrefix', value: `/${service}/` }
  return { type: 'RegularExpression', value: `/[^/]+/${method}` }
}

/** A GRPCRouteMatch as the equivalent HTTPRouteMatch (path + the same header conditions). */
export function grpcMatchAsHttp (m: GrpcRouteMatch): RouteMatch {
  const out: RouteMatch = { path: grpcPathMatch(m) }
  if (m.headers !== undefined && m.headers.length > 0) out.headers = m.headers.map(h => ({ type: h.type, name: h.name, value: h.value }))
  return out
}

/**
 * A GRPCRoute rule as an HTTPRoute rule, so a translator reuses its HTTP rule code: matches become path
 * matches, filters are the header modifiers and mirror both kinds share (ExtensionRef never passes the schema).
 */
export function grpcRuleAsHttp (rule: GrpcRouteRule): RouteRule {
  const matches = (rule.matches.length > 0 ? rule.matches : [{}]).map(grpcMatchAsHttp)
  const filters = rule.filters?.filter((f): f is Extract<RouteFilter, { type: typeof f.type }> => f.type !== 'ExtensionRef')
  return { name: rule.name, matches, ...(filters !== undefined ? { filters } : {}), backendRefs: rule.backendRefs, timeouts: rule.timeouts, retry: rule.retry }
}
