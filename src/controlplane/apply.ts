import { ConfigInvalidError, type ConfigProblem, SnapshotRejectedError } from '../errors.ts'
import { type LoadedResource, parseResources, validateResource } from '../config/load.ts'
import { resourceKey } from '../config/resource.ts'
import { checkSnapshot } from '../config/snapshot.ts'
import { compileSnapshot } from './compile.ts'
import type { MeshView } from './mesh-view.ts'
import { ProxyHello } from './protocol.ts'
import type { Registry } from './registry.ts'

/**
 * Turn what `apply` receives (YAML/JSON text, or already-parsed resource objects) into validated
 * resources. Throws ConfigInvalidError naming file (the `source`), line (text only), path and reason.
 */
export function parseApplyInput (input: string | readonly unknown[], source: string): LoadedResource[] {
  if (typeof input === 'string') return parseResources(input, source)
  const out: LoadedResource[] = []
  const problems: ConfigProblem[] = []
  input.forEach((value, i) => {
    const r = validateResource(value, source)
    if (r.ok) out.push({ resource: r.resource, file: source, line: 0 })
    else for (const p of r.problems) problems.push({ file: `${source}[${i}]`, path: p.path, reason: p.reason, resource: p.resource })
  })
  if (problems.length > 0) throw new ConfigInvalidError(problems)
  return out
}

/** kubectl-apply semantics: a resource replaces the one with the same Kind/namespace/name, or is added. */
export function mergeResources (current: readonly LoadedResource[], incoming: readonly LoadedResource[]): { merged: LoadedResource[], changed: string[] } {
  const byKey = new Map<string, number>()
  const merged = [...current]
  merged.forEach((l, i) => byKey.set(resourceKey(l.resource), i))
  const changed: string[] = []
  for (const l of incoming) {
    const key = resourceKey(l.resource)
    const i = byKey.get(key)
    if (i === undefined) {
      byKey.set(key, merged.length)
      merged.push(l)
      changed.push(key)
    } else if (JSON.stringify(merged[i].resource) !== JSON.stringify(l.resource)) {
      merged[i] = l
      changed.push(key)
    }
  }
  return { merged, changed }
}

/**
 * Compile the candidate config for every proxy the registry knows plus one probe sidecar per declared
 * workload version and one per Gateway, and run the proxy's own check on each: a change that would be
 * NACKed is refused before any proxy sees it.
 */
export function checkCompiles (view: MeshView, registry: Registry): ConfigProblem[] {
  const hellos = [...registry.proxies.values()].map(r => r.hello)
  for (const svc of view.services.values()) {
    for (const v of svc.versions.keys()) {
      hellos.push(ProxyHello.parse({ id: `probe-${svc.namespace}-${svc.name}-${v}`, role: 'sidecar', service: svc.name, version: v, namespace: svc.namespace, app: { port: 1 } }))
    }
  }
  for (const g of view.gateways) {
    const role = g.spec.gatewayClassName === 'meshwork-egress' ? 'egress' : 'ingress'
    hellos.push(ProxyHello.parse({ id: `probe-${g.metadata.namespace}-${g.metadata.name}`, role, namespace: g.metadata.namespace, gateway: { name: g.metadata.name } }))
  }
  const problems: ConfigProblem[] = []
  const seen = new Set<string>()
  for (const hello of hellos) {
    try {
      checkSnapshot(compileSnapshot({ view, endpoints: (ns, s) => registry.endpoints(ns, s), trustDomain: registry.trustDomain, version: 'check' }, hello), `<snapshot for ${hello.id}>`)
    } catch (err) {
      if (!(err instanceof SnapshotRejectedError)) throw err
      if (seen.has(err.message)) continue
      seen.add(err.message)
      problems.push({ file: `<snapshot for ${hello.id}>`, path: '', reason: err.message })
    }
  }
  return problems
}
