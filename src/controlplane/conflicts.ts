import type { ConfigProblem } from '../errors.ts'
import type { LoadedResource } from '../config/load.ts'
import type { GRPCRoute } from '../config/grpc-route.ts'
import type { HTTPRoute } from '../config/http-route.ts'
import { findGrpcRouteConflicts, findRouteConflicts as routerConflicts, type RouteConflict } from '../dataplane/router/conflicts.ts'
import { findKindConflicts } from '../dataplane/router/route-kinds.ts'
import { buildMeshView, resolveServiceName } from './mesh-view.ts'

/**
 * Problems that no single schema can see: resources that contradict each other or point at nothing.
 * Each names the file, line and path of the offending resource. Empty array = consistent.
 *
 * - the same resource (kind/namespace/name) defined twice;
 * - more than one MeshConfig;
 * - two route rules on the same parent and hostnames claiming the same match (instead of silently
 *   choosing one), for HTTPRoutes and for GRPCRoutes;
 * - an HTTPRoute a GRPCRoute makes ignored (same Service, or same Gateway with shared hostnames: the Gateway
 *   API's kind rules, `router/route-kinds.ts`);
 * - a rule whose backendRef weights sum to 0;
 * - backendRefs / mirrors / Service parentRefs naming an unknown service or version;
 * - Gateway parentRefs naming an unknown Gateway;
 * - policies targeting an unknown service, and two DestinationPolicies on the same target;
 * - Workloads of one service declaring different ports, or the same version twice.
 *
 * @example const problems = findConflicts(await loadResourceFiles(['mesh.yaml']))
 */
export function findConflicts (loaded: readonly LoadedResource[]): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const view = buildMeshView(loaded)
  const at = (l: LoadedResource, path: string, reason: string): void => {
    problems.push({ file: l.file, line: l.line, path, reason, resource: `${l.resource.kind}/${l.resource.metadata.name}` })
  }

  const seen = new Map<string, LoadedResource>()
  for (const l of loaded) {
    const key = `${l.resource.kind}/${l.resource.metadata.namespace}/${l.resource.metadata.name}`
    const first = seen.get(key)
    if (first) at(l, 'metadata.name', `${key} is defined twice (first at ${first.file}:${first.line})`)
    else seen.set(key, l)
  }

  const meshConfigs = loaded.filter(l => l.resource.kind === 'MeshConfig')
  for (const l of meshConfigs.slice(1)) at(l, 'kind', `a mesh has at most one MeshConfig (first at ${meshConfigs[0].file}:${meshConfigs[0].line})`)

  const workloadPorts = new Map<string, { port: number, l: LoadedResource }>()
  const workloadVersions = new Map<string, LoadedResource>()
  for (const l of loaded) {
    const r = l.resource
    if (r.kind !== 'Workload') continue
    const sk = `${r.metadata.namespace}/${r.spec.service}`
    const p = workloadPorts.get(sk)
    if (p && p.port !== r.spec.port) at(l, 'spec.port', `service "${r.spec.service}" is on port ${p.port} in ${p.l.file}:${p.l.line}, here ${r.spec.port}`)
    else if (!p) workloadPorts.set(sk, { port: r.spec.port, l })
    const vk = `${sk}-${r.spec.version}`
    const v = workloadVersions.get(vk)
    if (v && v !== l) at(l, 'spec.version', `version "${r.spec.version}" of service "${r.spec.service}" is also declared by ${v.resource.metadata.name} (${v.file}:${v.line})`)
    else workloadVersions.set(vk, l)
  }

  const gatewayNames = new Set(view.gateways.map(g => `${g.metadata.namespace}/${g.metadata.name}`))
  const known = (n: string, ns: string): boolean => resolveServiceName(view, n, ns) !== undefined
  // `details.team-a` is how a snapshot names a service of another namespace; a mesh file writes `namespace: team-a`.
  const dotted = (l: LoadedResource, path: string, ref: { name: string, namespace?: string }): boolean => {
    if (!ref.name.includes('.')) return false
    const [name, ns] = ref.name.split('.')
    at(l, path, `"${ref.name}" is not a service name: write name: ${name} and namespace: ${ns}`)
    return true
  }
  const unknown = (n: string, ns: string, own: string): string => `unknown service "${n}"${ns === own ? '' : ` in namespace "${ns}"`} (no Workload declares it)`
  for (const l of loaded) {
    const r = l.resource
    if (r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute') continue
    const rns = r.metadata.namespace
    r.spec.parentRefs.forEach((p, i) => {
      const pns = p.namespace ?? rns
      if (p.kind === 'Gateway' && !gatewayNames.has(`${pns}/${p.name}`)) at(l, `spec.parentRefs[${i}].name`, `unknown Gateway "${p.name}"${pns === rns ? '' : ` in namespace "${pns}"`}`)
      if (p.kind === 'Service' && !dotted(l, `spec.parentRefs[${i}].name`, p) && !known(p.name, pns)) at(l, `spec.parentRefs[${i}].name`, unknown(p.name, pns, rns))
    })
    ;(r.spec.rules as (HTTPRoute | GRPCRoute)['spec']['rules']).forEach((rule, ri) => {
      rule.backendRefs.forEach((b, bi) => {
        const bns = b.namespace ?? rns
        if (!dotted(l, `spec.rules[${ri}].backendRefs[${bi}].name`, b) && !known(b.name, bns)) at(l, `spec.rules[${ri}].backendRefs[${bi}].name`, unknown(b.name, bns, rns))
      })
      if (rule.backendRefs.length > 0 && rule.backendRefs.reduce((s, b) => s + b.weight, 0) === 0) {
        at(l, `spec.rules[${ri}].backendRefs`, 'backendRef weights sum to 0: the rule can send traffic nowhere')
      }
      rule.filters?.forEach((f, fi) => {
        if (f.type !== 'RequestMirror') return
        const m = f.requestMirror.backendRef
        const path = `spec.rules[${ri}].filters[${fi}].requestMirror.backendRef.name`
        if (!dotted(l, path, m) && !known(m.name, m.namespace ?? rns)) at(l, path, unknown(m.name, m.namespace ?? rns, rns))
      })
    })
  }
  problems.push(...findRouteConflicts(loaded))

  const destTargets = new Map<string, LoadedResource>()
  for (const l of loaded) {
    const r = l.resource
    if (r.kind !== 'DestinationPolicy' && r.kind !== 'AuthorizationPolicy' && r.kind !== 'FaultInjection' && r.kind !== 'RateLimitPolicy') continue
    const target = r.spec.targetRef.name
    const tns = r.spec.targetRef.namespace ?? r.metadata.namespace
    if (dotted(l, 'spec.targetRef.name', r.spec.targetRef)) continue
    if (!known(target, tns)) at(l, 'spec.targetRef.name', unknown(target, tns, r.metadata.namespace))
    if (r.kind === 'DestinationPolicy') {
      const prev = destTargets.get(`${tns}/${target}`)
      if (prev) at(l, 'spec.targetRef', `"${target}" already has DestinationPolicy/${prev.resource.metadata.name} (${prev.file}:${prev.line})`)
      else destTargets.set(`${tns}/${target}`, l)
    }
  }
  return problems
}

/**
 * Route rules that claim the same match on the same parent and hostnames (the router's own
 * `findRouteConflicts` / `findGrpcRouteConflicts`, so `check` reports exactly what the route table would
 * silently shadow), reported on the losing rule with its file and line; and routes the Gateway API's kind
 * rules make a parent ignore (an HTTPRoute beside a GRPCRoute), reported on the ignored route's parentRef.
 */
export function findRouteConflicts (loaded: readonly LoadedResource[]): ConfigProblem[] {
  const byName = new Map<string, LoadedResource>()
  const routes: HTTPRoute[] = []
  const grpcRoutes: GRPCRoute[] = []
  for (const l of loaded) {
    const r = l.resource
    if (r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute') continue
    const key = `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`
    if (byName.has(key)) continue // a duplicate definition is reported on its own
    byName.set(key, l)
    if (r.kind === 'HTTPRoute') routes.push(r)
    else grpcRoutes.push(r)
  }
  const onLoser = (c: RouteConflict): ConfigProblem => {
    const loser = c.routes[1]
    const l = byName.get(`${c.kind}/${loser.namespace}/${loser.name}`)!
    return { file: l.file, line: l.line, path: c.path, resource: `${c.kind}/${loser.name}`, reason: c.reason }
  }
  const problems = [...routerConflicts(routes).map(onLoser), ...findGrpcRouteConflicts(grpcRoutes).map(onLoser)]
  const view = buildMeshView(loaded)
  // The port of a Service parent: the service of that name (first namespace declaring it; ports agree per service).
  const portOf = (name: string): number | undefined => {
    for (const s of view.services.values()) { const hit = resolveServiceName(view, name, s.namespace); if (hit !== undefined) return hit.info.port }
    return undefined
  }
  for (const c of findKindConflicts(routes, grpcRoutes, portOf)) {
    const l = byName.get(`${c.ignored.kind}/${c.ignored.namespace}/${c.ignored.name}`)!
    problems.push({ file: l.file, line: l.line, path: `spec.parentRefs[${c.parentRefIndex}]`, resource: `${c.ignored.kind}/${c.ignored.name}`, reason: c.reason })
  }
  return problems
}
