/**
 * `meshwork proxy`: parse flags, build the Proxy, feed it from a static snapshot file or a control plane.
 * No logic lives here (STYLE: main only wires modules).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigInvalidError } from '../../errors.ts'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { type HostPort, Proxy } from '../../dataplane/proxy.ts'
import { SnapshotFile } from '../../dataplane/snapshot-file.ts'
import { HEAP_TRIM_DEFAULTS, startHeapTrim } from '../../dataplane/heap-trim.ts'

export const usage = `Usage: meshwork proxy [options]

Runs the Meshwork sidecar / gateway proxy.

Config source (one of):
  --snapshot <file>        static snapshot (YAML or JSON), reloaded when the file changes
  --control-plane <url>    control plane URL (identity + snapshot stream)

Listeners (host:port, port 0 = any free port):
  --outbound <addr>        the app's HTTP_PROXY (routes by authority)
  --inbound <addr>         calls from peer sidecars (mTLS), forwarded to the local app
  --listen <addr>          gateway listener (ingress/egress); --gateway-listen is an alias
  --admin <addr>           /ready /config /metrics /tap (default 127.0.0.1:15000)

Identity (static mTLS material, PEM files):
  --cert <file> --key <file> --ca <file>

Control-plane registration (with --control-plane):
  --id <id> --role sidecar|ingress|egress --service <name> --version <v> --namespace <ns>
  --app <addr> --app-health-path <path> --gateway <name>
  --app-probe <port><path> a probe of the app the admin serves at /app-health/<port><path> (repeatable;
                           kubelet probes of a captured port, rewritten by meshwork inject)
  --advertise <addr>       where peers dial this sidecar (default: the --inbound address); with transparent
                           capture, the pod's address and the app's port (the pod's rules redirect it to
                           the inbound listener)

Pods (meshwork up --network pods):
  --dns <addr>             answer every DNS query on <addr> (UDP) with --dns-answer: the pod's rules send the
                           app's queries here; mesh names resolve from the pod's /etc/hosts before
  --dns-answer <ip>        the address unknown names get (default the no-route address 198.19.255.254,
                           which this sidecar answers with 404 MESH_ERR_NO_ROUTE)

Memory:
  --heap-trim-mb <n>       collect V8's old generation once it has grown by n MB since the last
                           collection, at most every ${HEAP_TRIM_DEFAULTS.minIntervalMs / 1000} s (default ${HEAP_TRIM_DEFAULTS.growthBytes / 1024 / 1024}; 0 = off, leave it to V8).
                           Needs node --expose-gc, which the launcher passes to proxies.
`

function hostPort (flag: string, v: string | undefined): HostPort | undefined {
  if (v === undefined) return undefined
  const i = v.lastIndexOf(':')
  const host = i === -1 ? '127.0.0.1' : v.slice(0, i) || '127.0.0.1'
  const port = Number(i === -1 ? v : v.slice(i + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigInvalidError([{ file: '<flags>', path: flag, reason: `must be host:port, got "${v}"` }])
  }
  return { host, port }
}

export async function run (argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      snapshot: { type: 'string' },
      'control-plane': { type: 'string' },
      outbound: { type: 'string' },
      inbound: { type: 'string' },
      listen: { type: 'string' },
      'gateway-listen': { type: 'string' },
      admin: { type: 'string', default: '127.0.0.1:15000' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      id: { type: 'string' },
      role: { type: 'string' },
      service: { type: 'string' },
      version: { type: 'string' },
      namespace: { type: 'string' },
      app: { type: 'string' },
      'app-health-path': { type: 'string' },
      gateway: { type: 'string' },
      advertise: { type: 'string' },
      'app-probe': { type: 'string', multiple: true },
      dns: { type: 'string' },
      'dns-answer': { type: 'string', default: '198.19.255.254' },
      'heap-trim-mb': { type: 'string', default: String(HEAP_TRIM_DEFAULTS.growthBytes / 1024 / 1024) }
    },
    strict: true
  })
  if ((v.snapshot === undefined) === (v['control-plane'] === undefined)) {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--snapshot', reason: 'give exactly one of --snapshot <file> or --control-plane <url>' }])
  }
  const trimMb = Number(v['heap-trim-mb'])
  if (!Number.isFinite(trimMb) || trimMb < 0) {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--heap-trim-mb', reason: `must be a number of MB ≥ 0, got "${v['heap-trim-mb']}"` }])
  }
  const tlsFiles = [v.cert, v.key, v.ca]
  if (tlsFiles.some(f => f !== undefined) && tlsFiles.some(f => f === undefined)) {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--cert', reason: '--cert, --key and --ca go together' }])
  }
  const tls = v.cert !== undefined
    ? { certPem: readFileSync(v.cert, 'utf8'), keyPem: readFileSync(v.key!, 'utf8'), trustBundlePem: readFileSync(v.ca!, 'utf8') }
    : undefined
  // Signals are taken from here on (they do not keep the process alive): a SIGTERM during start-up stops the
  // proxy cleanly once it has started, instead of killing it half-way.
  let requestStop = (): void => {}
  const stopRequested = new Promise<void>(resolve => {
    requestStop = (): void => { process.off('SIGINT', requestStop); process.off('SIGTERM', requestStop); resolve() }
    process.on('SIGINT', requestStop)
    process.on('SIGTERM', requestStop)
  })
  const proxy = new Proxy({
    listeners: {
      outbound: hostPort('--outbound', v.outbound),
      inbound: hostPort('--inbound', v.inbound),
      gateway: hostPort('--listen', v.listen ?? v['gateway-listen']),
      admin: hostPort('--admin', v.admin)!
    },
    tls,
    // identity from the control plane: /ready waits for the certificate when mTLS needs one
    requireIdentity: v['control-plane'] !== undefined && tls === undefined,
    gatewayName: v.gateway
  })
  for (const t of v['app-probe'] ?? []) {
    if (!/^\d{1,5}\//.test(t)) throw new ConfigInvalidError([{ file: '<flags>', path: '--app-probe', reason: `must be <port><path>, e.g. 9080/healthz, got "${t}"` }])
  }
  if (v['app-probe'] !== undefined) proxy.setAppProbes(hostPort('--app', v.app)?.host ?? '127.0.0.1', v['app-probe'])
  await proxy.start()
  const heapTrim = trimMb > 0 ? startHeapTrim({ growthBytes: trimMb * 1024 * 1024, registry: proxy.metrics }) : null
  const a = proxy.addresses
  const list = Object.entries(a).map(([k, x]) => `${k}=${x!.address}:${x!.port}`).join(' ')
  process.stderr.write(`meshwork proxy: listening ${list}\n`)
  process.stderr.write(heapTrim !== null
    ? `meshwork proxy: heap trim on (${trimMb} MB)\n`
    : `meshwork proxy: heap trim off (${trimMb > 0 ? 'node runs without --expose-gc: start proxies with the `meshwork` launcher' : '--heap-trim-mb 0'})\n`)

  // loaded only when asked: a proxy without it opens no UDP socket
  const dns = v.dns === undefined
    ? null
    : await (async () => {
      const { startCatchAllDns } = await import('../../dataplane/dns/catch-all-dns.ts')
      const queries = proxy.metrics.counter('meshwork_dns_catch_all_queries_total', 'DNS queries the catch-all responder answered (names the mesh does not know), by type.', ['type'])
      const where = hostPort('--dns', v.dns)!
      return startCatchAllDns({ ...where, address: v['dns-answer']!, onQuery: (_name, type) => queries.labels(type === 1 ? 'A' : type === 28 ? 'AAAA' : String(type)).inc() })
    })()

  let stopSource: () => Promise<void> | void
  if (v.snapshot !== undefined) {
    const file = new SnapshotFile(v.snapshot, proxy, {
      onResult: (r, f) => {
        if (r.ok) process.stderr.write(`meshwork proxy: applied snapshot ${r.version} from ${f}\n`)
        else process.stderr.write(`meshwork proxy: ${r.error.code}: ${r.error.message}\n`)
      }
    })
    await file.load()
    file.watch()
    stopSource = () => file.close()
  } else {
    const role = (v.role ?? 'sidecar') as 'sidecar' | 'ingress' | 'egress'
    const inbound = v.advertise !== undefined ? hostPort('--advertise', v.advertise) : a.inbound !== undefined ? { host: a.inbound.address, port: a.inbound.port } : undefined
    // loaded only for this mode: it brings the PKI (x509) a static-snapshot proxy does not need
    const { startConfigClient } = await import('../../dataplane/config-client.ts')
    const client = startConfigClient(proxy, {
      url: v['control-plane']!,
      id: v.id ?? `${v.service ?? v.gateway ?? 'proxy'}-${process.pid}`,
      role,
      service: v.service,
      version: v.version,
      namespace: v.namespace,
      inbound,
      app: hostPort('--app', v.app),
      gateway: v.gateway !== undefined ? { name: v.gateway } : undefined,
      readinessPath: v['app-health-path'],
      log: (line) => process.stderr.write(`meshwork proxy: ${line}\n`)
    })
    if (v.app !== undefined) proxy.setAppHealthSource(() => client.appHealthy)
    stopSource = () => client.close()
  }

  // Started by `meshwork up` with a stdin lifeline (docs/runtime.md): its end means the runtime died.
  if (process.env.MESHWORK_EXIT_ON_STDIN_EOF === '1') process.stdin.on('end', requestStop).on('error', requestStop).resume()
  await stopRequested
  heapTrim?.stop()
  await stopSource()
  await dns?.close()
  await proxy.stop()
  // A resumed stdin lifeline is a live handle: without this the stopped process never exits (SIGKILL after 5 s).
  if (process.env.MESHWORK_EXIT_ON_STDIN_EOF === '1') process.stdin.destroy()
  return 0
}
