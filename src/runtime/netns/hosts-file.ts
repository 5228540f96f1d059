/**
 * Name resolution inside a pod, as on Kubernetes but without a DNS server: `/etc/netns/<pod>/hosts` lists
 * every service's virtual address under `<name>`, `<name>.<ns>`, `<name>.<ns>.svc` and
 * `<name>.<ns>.svc.cluster.local` (the short name only for services of the pod's own namespace). `ip netns exec`
 * bind-mounts the files of `/etc/netns/<pod>/` over `/etc/`, so every process of the pod (any language, any
 * resolver using the system's files) sees them. `nsswitch.conf` looks in /etc/hosts first, then asks DNS
 * at 127.0.0.1 (`resolv.conf`), which the pod's rules send to the sidecar's catch-all responder: a name the
 * mesh does not know resolves to the no-route address, and the call gets MESH_ERR_NO_ROUTE from the sidecar.
 *
 * The files are rewritten in place (same inode), so running pods see new services without a restart: a bind
 * mount keeps pointing at the file it was made from, a renamed replacement would not show.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ETC_NETNS } from './names.ts'

export interface ServiceName {
  /** `reviews`, `reviews-v2` */
  name: string
  namespace: string
  vip: string
}

export interface PodHosts {
  /** The pod's name (its instance id) and address. */
  pod: string
  address: string
  /** The pod's Kubernetes-style namespace (`default`): short names resolve to services there. */
  namespace: string
  services: readonly ServiceName[]
  /** Cluster domain (default `cluster.local`). */
  clusterDomain?: string
}

/** The pod's /etc/hosts. */
export function renderHostsFile (h: PodHosts): string {
  const domain = h.clusterDomain ?? 'cluster.local'
  const lines = [
    '# Written by meshwork (src/runtime/netns/hosts-file.ts): service names of the mesh, as on Kubernetes.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${h.address}\t${h.pod}`
  ]
  const sorted = [...h.services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  for (const s of sorted) {
    const full = [`${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.${domain}`]
    lines.push(`${s.vip}\t${s.namespace === h.namespace ? `${s.name} ` : ''}${full.join(' ')}`)
  }
  return lines.join('\n') + '\n'
}

/** resolv.conf of a pod: 127.0.0.1, which the capture rules send to the sidecar's catch-all responder. */
export function renderResolvConf (): string {
  return [
    '# Written by meshwork: mesh names are in /etc/hosts; any other name is answered by the sidecar',
    '# (catch-all, the no-route address: calls to it get MESH_ERR_NO_ROUTE). There is no way out of the pod.',
    'nameserver 127.0.0.1',
    'options timeout:1 attempts:2',
    ''
  ].join('\n')
}

/** The host's nsswitch.conf with `hosts: files dns` (no mDNS or other sources that could wait or leave the pod). */
export function renderNsswitch (hostNsswitch: string): string {
  const lines = hostNsswitch.split('\n').filter(l => !/^\s*hosts\s*:/.test(l))
  const out = ['# meshwork pod: /etc/hosts, then the sidecar\'s catch-all DNS', 'hosts: files dns', ...lines]
  return out.join('\n').replace(/\n*$/, '\n')
}

/** `/etc/netns/<netns>` */
export function podEtcDir (netns: string, root = ETC_NETNS): string {
  return join(root, netns)
}

/** Create the pod's /etc/netns files (before any process of it starts: the mounts are made at exec). */
export function writePodEtc (netns: string, hosts: PodHosts, root = ETC_NETNS): void {
  const dir = podEtcDir(netns, root)
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  writeFileSync(join(dir, 'hosts'), renderHostsFile(hosts), { mode: 0o644 })
  writeFileSync(join(dir, 'resolv.conf'), renderResolvConf(), { mode: 0o644 })
  const host = existsSync('/etc/nsswitch.conf') ? readFileSync('/etc/nsswitch.conf', 'utf8') : ''
  writeFileSync(join(dir, 'nsswitch.conf'), renderNsswitch(host), { mode: 0o644 })
}

/** Rewrite the pod's hosts file in place (running processes see it: same inode under their bind mount). */
export function updatePodHosts (netns: string, hosts: PodHosts, root = ETC_NETNS): void {
  writeFileSync(join(podEtcDir(netns, root), 'hosts'), renderHostsFile(hosts))
}

export function removePodEtc (netns: string, root = ETC_NETNS): void {
  rmSync(podEtcDir(netns, root), { recursive: true, force: true })
}
