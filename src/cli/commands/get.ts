import { parseArgs } from 'node:util'
import { NoRouteError } from '../../errors.ts'
import type { ProxyListing, RouteListing, ServiceListing } from '../../controlplane/views.ts'
import type { XdsClientListing } from '../../controlplane/xds/list-clients.ts'
import { resolveControlPlane, unreachableError } from '../context.ts'

export const usage = `Usage: meshwork get routes|services|proxies|workloads|xds-clients [options]

List what a running control plane serves. \`xds-clients\`: the Envoy / proxyless gRPC clients on its xDS
port (meshwork control --xds-port), what each subscribed, and whether it ACKed or NACKed each type.

Options:
      --control-plane <url>  the control plane (see below)
      --data-dir <dir>       where \`meshwork up\` recorded its context (default $MESHWORK_DATA_DIR, else ./.meshwork)
  -o, --output <fmt>         table (default) or json

The control plane is, first match wins: --control-plane, $MESHWORK_CONTROL_PLANE, the URL a running
\`meshwork up\` recorded in <data-dir>/context.json, http://127.0.0.1:15010.
`

const KINDS = ['routes', 'services', 'proxies', 'workloads', 'xds-clients'] as const

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'control-plane': { type: 'string' }, 'data-dir': { type: 'string' }, output: { type: 'string', short: 'o', default: 'table' } }
  })
  const what = positionals[0] === 'route' || positionals[0] === 'service' || positionals[0] === 'proxy' || positionals[0] === 'workload'
    ? (positionals[0] === 'proxy' ? 'proxies' : `${positionals[0]}s`)
    : positionals[0]
  if (!KINDS.includes(what as typeof KINDS[number])) { process.stderr.write(usage); return 2 }
  const cp = resolveControlPlane({ flag: values['control-plane'], dataDir: values['data-dir'] })
  let res: Response
  try {
    res = await fetch(new URL(`/v1/${what}`, cp.url))
  } catch (err) {
    throw unreachableError(cp, err)
  }
  if (!res.ok) throw new NoRouteError(`control plane answered ${res.status} for /v1/${what}`)
  const data = await res.json() as unknown[]
  if (values.output === 'json') {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n')
    return 0
  }
  process.stdout.write(table(rows(what as typeof KINDS[number], data)) + '\n')
  return 0
}

function rows (what: typeof KINDS[number], data: unknown[]): string[][] {
  switch (what) {
    case 'services':
      return [['NAME', 'PORT', 'VERSIONS', 'ENDPOINTS', 'HEALTHY'], ...(data as ServiceListing[]).map(s => [
        s.name, String(s.port), s.versions.join(','), String(s.endpoints.length), String(s.endpoints.filter(e => e.healthy).length)
      ])]
    case 'routes':
      return [['NAME', 'PARENTS', 'HOSTNAMES', 'MATCHES', 'BACKENDS', 'SOURCE'], ...(data as RouteListing[]).flatMap(r => r.rules.map((rule, i) => [
        i === 0 ? `${r.kind}/${r.name}` : '', i === 0 ? r.parents.join(',') : '', i === 0 ? (r.hostnames.join(',') || '*') : '', rule.matches.join(' | '), rule.backends.join(',') || '(redirect)', i === 0 ? r.source : ''
      ]))]
    case 'proxies':
      return [['ID', 'ROLE', 'SERVICE', 'VERSION', 'CONNECTED', 'HEALTHY', 'SYNC', 'ACKED', 'CERT EXPIRES', 'LAST NACK'], ...(data as ProxyListing[]).map(p => [
        p.id, p.role, p.service ?? '-', p.version ?? '-', p.connected ? 'yes' : 'no', p.healthy ? 'yes' : 'no', p.sync, p.ackedVersion ?? '-', p.certNotAfter ?? '-',
        p.lastNack ? `v${p.lastNack.version} ${p.lastNack.code}: ${p.lastNack.message.split('\n')[0]}` : ''
      ])]
    case 'xds-clients':
      return [['ID', 'CLIENT', 'ENDPOINTS', 'PROTOCOL', 'SERVICE', 'SYNC', 'LDS', 'RDS', 'CDS', 'EDS', 'LAST NACK'], ...(data as XdsClientListing[]).map(c => {
        const t = (k: 'LDS' | 'RDS' | 'CDS' | 'EDS'): string => {
          const x = c.types[k]
          return x === undefined ? '-' : `${x.resources}${x.subscribed.includes('*') ? '*' : ''} ${x.sync === 'SYNCED' ? `v${x.ackedVersion ?? '-'}` : x.sync}`
        }
        const nack = Object.entries(c.types).find(([, x]) => x?.lastNack)
        return [c.id, c.client, c.endpoints, c.protocol, c.service ?? '-', c.sync, t('LDS'), t('RDS'), t('CDS'), t('EDS'), nack ? `${nack[0]} v${nack[1]!.lastNack!.version}: ${nack[1]!.lastNack!.message.split('\n')[0]}` : '']
      })]
    case 'workloads':
      return [['NAME', 'SERVICE', 'VERSION', 'REPLICAS', 'SERVICE ACCOUNT', 'READINESS'], ...(data as { name: string, service: string, version: string, replicas: number, serviceAccount: string, readinessPath: string }[]).map(w => [
        w.name, w.service, w.version, String(w.replicas), w.serviceAccount, w.readinessPath
      ])]
  }
}

/** Columns padded to their widest cell, two spaces apart. */
export function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}
