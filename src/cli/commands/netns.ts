/**
 * `meshwork netns`: the pod network's tools. `rules` renders (and with --apply loads) the capture rules of one
 * pod — what the Kubernetes init container runs, with the same generator as `meshwork up --network pods`;
 * `clean` removes pod networks whose `meshwork up` is gone; `list` shows them.
 */
import { parseArgs } from 'node:util'
import { ConfigInvalidError, PodNetworkUnavailableError } from '../../errors.ts'
import { CAPTURE_DEFAULTS, type CaptureRuleOptions, renderCaptureRules } from '../../runtime/netns/capture-rules.ts'

export const usage = `Usage: meshwork netns rules --app-ports <p,…> [--print | --apply] [options]
       meshwork netns clean
       meshwork netns list

rules   the nftables rules of transparent capture for one pod (inbound to the app ports → the sidecar's
        inbound listener, the app's outbound TCP → the sidecar's outbound listener, the sidecar's uid exempt).
        --print (default) writes them to stdout; --apply loads them into this network namespace with
        \`nft -f -\` (needs CAP_NET_ADMIN: the init container meshwork inject adds).
          --app-ports <p,…>             ports the app serves (may be empty: --app-ports '')
          --proxy-uid <uid>             uid of the sidecar, exempt from capture (default ${CAPTURE_DEFAULTS.proxyUid})
          --inbound-port <port>         sidecar inbound listener (default ${CAPTURE_DEFAULTS.inboundPort})
          --outbound-port <port>        sidecar outbound listener on 127.0.0.1 (default ${CAPTURE_DEFAULTS.outboundPort})
          --exclude-outbound-ports <p,…>  destination ports left alone (default ${CAPTURE_DEFAULTS.excludeOutboundPorts.join(',')}: DNS over TCP)
          --exclude-outbound-ranges <cidr,…>  destination IPv4 ranges left alone (e.g. the API server)
          --dns-port <port>             send the app's DNS queries (UDP 53) to this port on 127.0.0.1
                                        (meshwork up pods: the sidecar's catch-all responder; default: untouched)
clean   remove the namespaces, links, /etc/netns entries and owner files of \`meshwork up --network pods\`
        runs whose process is gone (a SIGKILLed run; the next \`meshwork up\` does the same)
list    the pod networks on this machine: run, owner pid (alive or gone), namespaces
`

function ports (flag: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined
  const list = v.split(',').map(x => x.trim()).filter(Boolean)
  const out = list.map(Number)
  if (out.some(p => !Number.isInteger(p) || p < 1 || p > 65535)) throw new ConfigInvalidError([{ file: '<flags>', path: flag, reason: `must be a comma-separated list of ports, got "${v}"` }])
  return out
}

function port (flag: string, v: string | undefined): number | undefined {
  const p = ports(flag, v)
  if (p !== undefined && p.length !== 1) throw new ConfigInvalidError([{ file: '<flags>', path: flag, reason: `must be one port, got "${v}"` }])
  return p?.[0]
}

async function rules (argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      'app-ports': { type: 'string' },
      'proxy-uid': { type: 'string' },
      'inbound-port': { type: 'string' },
      'outbound-port': { type: 'string' },
      'exclude-outbound-ports': { type: 'string' },
      'exclude-outbound-ranges': { type: 'string' },
      'dns-port': { type: 'string' },
      print: { type: 'boolean' },
      apply: { type: 'boolean' }
    },
    strict: true
  })
  if (v['app-ports'] === undefined) throw new ConfigInvalidError([{ file: '<flags>', path: '--app-ports', reason: 'give the ports the app serves (comma-separated; \'\' for none)' }])
  const uid = v['proxy-uid'] === undefined ? undefined : Number(v['proxy-uid'])
  const opts: CaptureRuleOptions = {
    appPorts: ports('--app-ports', v['app-ports']) ?? [],
    proxyUid: uid,
    inboundPort: port('--inbound-port', v['inbound-port']),
    outboundPort: port('--outbound-port', v['outbound-port']),
    excludeOutboundPorts: ports('--exclude-outbound-ports', v['exclude-outbound-ports']),
    excludeOutboundCidrs: v['exclude-outbound-ranges']?.split(',').map(x => x.trim()).filter(Boolean),
    dnsPort: port('--dns-port', v['dns-port'])
  }
  let text: string
  try {
    text = renderCaptureRules(opts)
  } catch (err) {
    throw new ConfigInvalidError([{ file: '<flags>', path: 'rules', reason: (err as Error).message }])
  }
  if (v.apply !== true) {
    process.stdout.write(text)
    return 0
  }
  const { nftApplyHere } = await import('../../runtime/netns/commands.ts')
  await nftApplyHere(text)
  process.stdout.write(`meshwork netns: capture rules loaded (app ports ${opts.appPorts.join(',') || '-'}, uid ${opts.proxyUid ?? CAPTURE_DEFAULTS.proxyUid} exempt)\n`)
  return 0
}

async function needPodNetworking (): Promise<void> {
  const { podNetworkUnsupportedReason } = await import('../../runtime/netns/capability.ts')
  const why = podNetworkUnsupportedReason()
  if (why !== null) throw new PodNetworkUnavailableError(`meshwork netns ${why}`)
}

async function clean (): Promise<number> {
  await needPodNetworking()
  const { cleanStaleRuns } = await import('../../runtime/netns/cleanup.ts')
  const removed = await cleanStaleRuns()
  for (const line of removed) process.stdout.write(`removed stale run ${line}\n`)
  if (removed.length === 0) process.stdout.write('meshwork netns: no stale pod network\n')
  return 0
}

async function list (): Promise<number> {
  await needPodNetworking()
  const { findRuns } = await import('../../runtime/netns/cleanup.ts')
  const { ownerAlive } = await import('../../runtime/netns/run-state.ts')
  const runs = [...(await findRuns()).values()]
  if (runs.length === 0) process.stdout.write('meshwork netns: no pod network on this machine\n')
  for (const r of runs) {
    const owner = r.state === null ? 'no owner file (stale)' : `owner pid ${r.state.pid} ${ownerAlive(r.state) ? 'alive' : 'gone (stale)'}, block ${r.state.block}, ${r.state.nodes} node(s)`
    process.stdout.write(`${r.run}: ${owner}; ${r.namespaces.length} namespaces, ${r.links.length} host links\n`)
    for (const ns of r.namespaces.sort()) process.stdout.write(`  ${ns}\n`)
  }
  return 0
}

export async function run (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'rules': return rules(rest)
    case 'clean': return clean()
    case 'list': return list()
    default:
      process.stderr.write(`meshwork netns: ${sub === undefined ? 'give a subcommand' : `unknown subcommand "${sub}"`}\n\n${usage}`)
      return 2
  }
}
