/**
 * kubelet probes under transparent capture. An HTTP probe of a captured port would land on the sidecar's
 * inbound listener, which (mTLS STRICT) refuses a caller without a mesh certificate, so the pod would never
 * become ready. As Istio does, `meshwork inject` points each such probe at the sidecar's admin listener,
 * `GET :15000/app-health/<port><path>`, and registers `<port><path>` with the proxy (`--app-probe`), which makes
 * the same GET to the app over loopback and answers 200 or 503. HTTPS, TCP and exec probes are left alone (a
 * TCP probe of a captured port then checks the sidecar). `meshwork.dev/rewrite-probes: "false"` turns this off.
 */

type Obj = Record<string, any>

export const REWRITE_PROBES_ANNOTATION = 'meshwork.dev/rewrite-probes'
const KINDS = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const

/** Resolve a probe's port (number or a named containerPort of the container). */
function portOf (c: Obj, port: unknown): number | null {
  if (typeof port === 'number') return port
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port)
  const named = ((c.ports ?? []) as Obj[]).find(p => p.name === port)
  return named !== undefined ? Number(named.containerPort) : null
}

/**
 * The app containers with their HTTP probes of captured ports pointed at the admin listener, and the probe
 * targets (`9080/healthz`) the proxy must serve.
 */
export function rewriteProbes (apps: readonly Obj[], captured: readonly number[], adminPort: number): { containers: Obj[], targets: string[] } {
  const targets = new Set<string>()
  const containers = apps.map(c => {
    let out = c
    for (const kind of KINDS) {
      const probe: Obj | undefined = c[kind]
      const http: Obj | undefined = probe?.httpGet
      if (http === undefined || (http.scheme ?? 'HTTP') !== 'HTTP') continue
      const port = portOf(c, http.port)
      if (port === null || !captured.includes(port)) continue
      const path = typeof http.path === 'string' && http.path.startsWith('/') ? http.path : `/${http.path ?? ''}`
      targets.add(`${port}${path}`)
      const { host: _host, ...rest } = http // the admin listener is on the pod's own address
      out = { ...out, [kind]: { ...probe, httpGet: { ...rest, path: `/app-health/${port}${path}`, port: adminPort } } }
    }
    return out
  })
  return { containers, targets: [...targets] }
}
