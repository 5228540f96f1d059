import { join } from 'node:path'

/** What the summary of `meshwork up` is made of (a plain view of a LocalMesh). */
export interface MeshSummaryInput {
  dataDir: string
  /** How the processes are connected (`MeshNetwork.describe()`: pods or loopback). */
  network?: string
  ingressUrl: string | null
  uiUrl: string | null
  controlPlaneUrl: string
  egressUrl: string | null
  /** HTTPRoutes attached to the egress Gateway. */
  egressRoutes: number
  /** Resources applied on top of the mesh files (persisted in the data dir). */
  applied: number
  /** The context file through which `meshwork get/apply/bench` find this mesh, when one was written. */
  contextFile?: string
  proxies: ReadonlyArray<{ id: string, adminUrl: string, metricsUrl: string }>
}

/** A path as a shell word: quoted only when it needs to be. */
function shellWord (s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** The Prometheus command line that scrapes every proxy of the mesh (`meshwork up` does not start it). */
export function prometheusCommand (dataDir: string, listen = '127.0.0.1:9090'): string {
  const dir = join(dataDir, 'prometheus')
  return `prometheus --config.file=${shellWord(join(dir, 'prometheus.yml'))} --storage.tsdb.path=${shellWord(join(dir, 'data'))} --web.listen-address=${listen}`
}

/**
 * The summary `meshwork up` prints: every URL with what it is for, the command that starts Prometheus
 * on the mesh, and each proxy's admin and metrics URL.
 *
 * @example process.stdout.write(formatMeshSummary({ ...view, contextFile }) + '\n')
 */
export function formatMeshSummary (m: MeshSummaryInput): string {
  const rows: Array<[string, string, string]> = []
  if (m.network !== undefined) rows.push(['network:', m.network.split(':')[0], m.network.slice(m.network.indexOf(':') + 1).trim()])
  if (m.ingressUrl !== null) rows.push(['ingress:', `${m.ingressUrl}/productpage`, 'the app through the ingress gateway: open it in a browser, or curl it'])
  if (m.uiUrl !== null) rows.push(['UI:', m.uiUrl, 'playground: live topology, config editor with diff and apply, traces, tap, benchmarks (the token logs the browser in: keep it private)'])
  rows.push(['control plane:', m.controlPlaneUrl, m.contextFile !== undefined
    ? `API of meshwork get/apply; get, apply and bench find this mesh through ${m.contextFile}`
    : 'API of meshwork get/apply (pass it with --control-plane)'])
  if (m.egressUrl !== null) {
    rows.push(['egress:', m.egressUrl, `gateway for calls leaving the mesh: HTTPRoutes attached to Gateway "egress" (${m.egressRoutes === 0 ? 'none yet' : m.egressRoutes})`])
  }
  rows.push(['logs:', join(m.dataDir, 'logs'), 'one file per process (<name>.log)'])
  const w0 = Math.max(...rows.map(r => r[0].length)) + 1
  const w1 = Math.max(...rows.map(r => r[1].length)) + 2
  const lines = [
    ...(m.applied > 0 ? [`note: ${m.applied} resource(s) applied on top of the mesh files are in effect (persisted in ${join(m.dataDir, 'control')}; delete it to start fresh)`] : []),
    ...rows.map(([k, v, what]) => `${k.padEnd(w0)}${v.padEnd(w1)}${what}`),
    `${'prometheus:'.padEnd(w0)}not started; to scrape every proxy (targets in ${join(m.dataDir, 'prometheus', 'targets.json')}), run:`,
    `${''.padEnd(w0)}  ${prometheusCommand(m.dataDir)}`,
    `${''.padEnd(w0)}then open http://127.0.0.1:9090 and query e.g. sum by (destination) (rate(meshwork_requests_total[30s]))`,
    'proxies (admin: /ready /config /tap · metrics: Prometheus text):'
  ]
  const width = Math.max(0, ...m.proxies.map(p => p.id.length))
  for (const p of m.proxies) lines.push(`  ${p.id.padEnd(width)}  ${p.adminUrl}  ${p.metricsUrl}`)
  return lines.join('\n')
}
