// Shared by the router's tests only: a Bookinfo-like snapshot validated by the real checkSnapshot.
import type { HTTPRoute } from '../../config/http-route.ts'
import { checkSnapshot, type ProxySnapshot, type ProxySnapshotInput } from '../../config/snapshot.ts'
import type { RouteRequest } from './types.ts'

export const SERVICES: ProxySnapshotInput['services'] = [
  { name: 'productpage', port: 9080, endpoints: [{ id: 'productpage-v1-0', address: '127.0.0.1', port: 10001, version: 'v1' }] },
  {
    name: 'reviews',
    port: 9080,
    endpoints: [
      { id: 'reviews-v1-0', address: '127.0.0.1', port: 10011, version: 'v1' },
      { id: 'reviews-v2-0', address: '127.0.0.1', port: 10012, version: 'v2' },
      { id: 'reviews-v3-0', address: '127.0.0.1', port: 10013, version: 'v3' }
    ]
  },
  { name: 'ratings', port: 9080, endpoints: [{ id: 'ratings-v1-0', address: '127.0.0.1', port: 10021, version: 'v1' }] },
  { name: 'details', port: 9081, endpoints: [{ id: 'details-0', address: '127.0.0.1', port: 10031 }] }
]

/** An HTTPRoute input (defaults filled by checkSnapshot). */
export function route (name: string, spec: Record<string, unknown>, namespace?: string): unknown {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: namespace ? { name, namespace } : { name }, spec }
}

/** A GRPCRoute input (defaults filled by checkSnapshot): pass it in `snapshot(routes, { grpcRoutes: [...] })`. */
export function grpcRoute (name: string, spec: Record<string, unknown>, namespace?: string): unknown {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: namespace ? { name, namespace } : { name }, spec }
}

export function snapshot (routes: unknown[] = [], extra: Record<string, unknown> = {}): ProxySnapshot {
  return checkSnapshot({ version: '1', node: { id: 'test' }, services: SERVICES, routes, ...extra })
}

/** Parsed HTTPRoutes (through the snapshot schema) for functions that take HTTPRoute[]. */
export function parsedRoutes (routes: unknown[]): HTTPRoute[] {
  return snapshot(routes).routes
}

export function req (authority: string, target = '/', opts: { method?: string, headers?: string[], scheme?: string } = {}): RouteRequest {
  const q = target.indexOf('?')
  return {
    method: opts.method ?? 'GET',
    authority,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    headers: opts.headers ?? [],
    scheme: opts.scheme
  }
}
