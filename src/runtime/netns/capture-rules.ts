/**
 * The nftables rules of transparent capture in one pod's network namespace, the way istio-iptables does it
 * with iptables: one generator for `meshwork up --network pods` and for the init container `meshwork inject`
 * adds on Kubernetes (`meshwork netns rules --apply`), so both run exactly the same rules.
 *
 *   inbound   peer ─▶ <pod>:<app port> ─prerouting: redirect─▶ sidecar inbound :15006 ─▶ app 127.0.0.1:<app port>
 *   outbound  app  ─▶ <any>:<any> (TCP) ─output: redirect──────▶ sidecar outbound 127.0.0.1:15001 ─▶ routed by Host
 *   exempt    the sidecar's own sockets (uid 1337), loopback, excluded ports and address ranges
 *
 * IPv6 is not captured: TCP over IPv6 (other than ::1) is refused with a reset in both directions, so nothing
 * reaches an app or leaves it around the sidecar.
 *
 * @example
 * const text = renderCaptureRules({ appPorts: [9080] })
 * // nft -f - < text   (inside the pod's namespace)
 */

export interface CaptureRuleOptions {
  /** Ports the app serves: inbound TCP to them goes to the sidecar's inbound listener. May be empty (gateways). */
  appPorts: readonly number[]
  /** Sidecar inbound listener (default 15006). */
  inboundPort?: number
  /** Sidecar outbound listener on 127.0.0.1 (default 15001). */
  outboundPort?: number
  /** The uid the sidecar runs as; its traffic is never captured (default 1337). */
  proxyUid?: number
  /** Outbound destination ports left alone (e.g. 53 for DNS over TCP; default [53]). */
  excludeOutboundPorts?: readonly number[]
  /** Outbound destination ranges left alone (CIDRs, e.g. the Kubernetes API server `10.96.0.1/32`). */
  excludeOutboundCidrs?: readonly string[]
  /**
   * The app's DNS queries (UDP port 53) go to this port on 127.0.0.1 (the sidecar's catch-all responder in
   * `meshwork up` pods). Absent: DNS is not touched (Kubernetes: kube-dns answers).
   */
  dnsPort?: number
}

export const CAPTURE_DEFAULTS = { inboundPort: 15006, outboundPort: 15001, proxyUid: 1337, excludeOutboundPorts: [53] as readonly number[] } as const

/** nft table name; `nft list table ip meshwork` shows the rules and their counters. */
export const CAPTURE_TABLE = 'meshwork'

/** Checks the options (ports 1..65535, uid, IPv4 CIDRs) and throws a TypeError naming the bad one. */
export function checkCaptureOptions (o: CaptureRuleOptions): Required<CaptureRuleOptions> {
  // dnsPort 0 in the result: DNS not redirected
  const port = (what: string, p: number): number => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new TypeError(`${what}: not a port: ${p}`)
    return p
  }
  const r: Required<CaptureRuleOptions> = {
    appPorts: [...new Set(o.appPorts.map(p => port('app port', p)))].sort((a, b) => a - b),
    inboundPort: port('inbound port', o.inboundPort ?? CAPTURE_DEFAULTS.inboundPort),
    outboundPort: port('outbound port', o.outboundPort ?? CAPTURE_DEFAULTS.outboundPort),
    proxyUid: o.proxyUid ?? CAPTURE_DEFAULTS.proxyUid,
    excludeOutboundPorts: [...new Set((o.excludeOutboundPorts ?? CAPTURE_DEFAULTS.excludeOutboundPorts).map(p => port('excluded outbound port', p)))].sort((a, b) => a - b),
    excludeOutboundCidrs: [...new Set(o.excludeOutboundCidrs ?? [])],
    dnsPort: o.dnsPort === undefined ? 0 : port('DNS port', o.dnsPort)
  }
  if (!Number.isInteger(r.proxyUid) || r.proxyUid < 1 || r.proxyUid > 2 ** 31) throw new TypeError(`proxy uid: not a non-root uid: ${r.proxyUid}`)
  for (const c of r.excludeOutboundCidrs) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(c)
    if (m === null || m.slice(1, 5).some(x => Number(x) > 255) || (m[5] !== undefined && Number(m[5]) > 32)) throw new TypeError(`excluded outbound range: not an IPv4 CIDR: "${c}"`)
  }
  for (const p of r.appPorts) {
    if (p === r.inboundPort || p === r.outboundPort) throw new TypeError(`app port ${p} is a port of the sidecar (inbound ${r.inboundPort}, outbound ${r.outboundPort})`)
  }
  return r
}

const set = (xs: readonly (number | string)[]): string => xs.length === 1 ? String(xs[0]) : `{ ${xs.join(', ')} }`

/** The whole ruleset as one atomic `nft -f` transaction (replaces an earlier version of the tables). */
export function renderCaptureRules (opts: CaptureRuleOptions): string {
  const o = checkCaptureOptions(opts)
  const uid = o.proxyUid
  const inbound = o.appPorts.length > 0
  const lines = [
    '# Transparent capture of one pod, rendered by meshwork (src/runtime/netns/capture-rules.ts).',
    `# app ports ${o.appPorts.join(',') || '-'} -> sidecar inbound :${o.inboundPort}; outbound TCP -> sidecar outbound 127.0.0.1:${o.outboundPort}; uid ${uid} exempt`,
    // add + delete: the file works whether or not an earlier version is loaded, in one transaction
    `add table ip ${CAPTURE_TABLE}`,
    `delete table ip ${CAPTURE_TABLE}`,
    `add table ip6 ${CAPTURE_TABLE}`,
    `delete table ip6 ${CAPTURE_TABLE}`,
    `table ip ${CAPTURE_TABLE} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    ...(inbound ? [`    iifname != "lo" tcp dport ${set(o.appPorts)} counter redirect to :${o.inboundPort} comment "inbound: app ports to the sidecar"`] : []),
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    // the sidecar dialing its own pod's address (a call that balanced onto this instance) is inbound traffic
    ...(inbound ? [`    meta skuid ${uid} fib daddr type local ip daddr != 127.0.0.0/8 tcp dport ${set(o.appPorts)} counter redirect to :${o.inboundPort} comment "sidecar to its own pod: inbound"`] : []),
    `    meta skuid ${uid} counter return comment "the sidecar's own traffic"`,
    ...(o.dnsPort > 0 ? [`    udp dport 53 counter redirect to :${o.dnsPort} comment "DNS: the sidecar's catch-all responder"`] : []),
    '    ip daddr 127.0.0.0/8 return',
    ...(o.excludeOutboundPorts.length > 0 ? [`    tcp dport ${set(o.excludeOutboundPorts)} return`] : []),
    ...(o.excludeOutboundCidrs.length > 0 ? [`    ip daddr ${set(o.excludeOutboundCidrs)} return`] : []),
    `    meta l4proto tcp counter redirect to :${o.outboundPort} comment "outbound: the app's TCP to the sidecar"`,
    '  }',
    '}',
    `table ip6 ${CAPTURE_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    `    meta skuid ${uid} return`,
    '    ip6 daddr ::1 return',
    '    meta l4proto tcp counter reject with tcp reset comment "IPv6 is not captured: refused"',
    '  }',
    ...(inbound
      ? [
          '  chain input {',
          '    type filter hook input priority filter; policy accept;',
          `    iifname != "lo" tcp dport ${set(o.appPorts)} counter reject with tcp reset comment "IPv6 is not captured: refused"`,
          '  }'
        ]
      : []),
    '}',
    ''
  ]
  return lines.join('\n')
}
