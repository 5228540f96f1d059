/**
 * The captured path of bench/proxy-overhead.ts: two pods of a real pod network (src/runtime/netns/, root only),
 * the client's traffic captured by the pod's nftables rules, as `meshwork up --network pods` runs it.
 *
 *   captured   wrk ─▶ 198.19.0.1:80 ─rules─▶ client sidecar :15001 ══mTLS══▶ <server pod>:80 ─rules─▶ server sidecar :15006 ─▶ origin 127.0.0.1:80
 *   explicit   wrk ─▶ 127.0.0.1:15101 (client sidecar, no rule) ══mTLS══▶ <server pod>:15106 (no rule) ─▶ origin
 *   (wrk in the client pod, origin nginx in the server pod, sidecars as uid 1337, a pair of sidecars per path;
 *   both paths cross the veths and the bridge, so captured / explicit is the cost of the rules alone)
 */
import type { ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CAPTURE_DEFAULTS } from '../src/runtime/netns/capture-rules.ts'
import { type Pod, PodNetwork } from '../src/runtime/netns/pod-network.ts'

export type Wrap = (command: string, args: string[]) => { command: string, args: string[] }

export interface CapturedPath {
  net: PodNetwork
  /** How to run wrk in the client pod. */
  inClient: Wrap
  /** Where wrk sends captured traffic: the service address of `origin`. */
  capturedUrl: string
  /** Where wrk sends traffic to the explicit client sidecar (no rule involved). */
  explicitUrl: string
  captured: { client: ChildProcess, server: ChildProcess }
  explicit: { client: ChildProcess, server: ChildProcess }
  close (): Promise<void>
}

export interface CapturedPathOptions {
  dir: string
  files: { ca: string, clientCert: string, clientKey: string, originCert: string, originKey: string }
  originIdentity: string
  /** Origin nginx `server { … }` block, listening on `127.0.0.1:80`. */
  originServer: string
  startNginx (name: string, server: string, wrap: Wrap): ChildProcess
  startMeshwork (name: string, args: string[], wrap: Wrap): Promise<ChildProcess>
}

const EXPLICIT_PORT = 15101
const EXPLICIT_INBOUND = 15106

export async function startCapturedPath (o: CapturedPathOptions): Promise<CapturedPath> {
  const net = await PodNetwork.create({ nodes: 1 })
  try {
    const client = await net.addPod({ id: 'bench-client', node: 0, namespace: 'default', capture: { appPorts: [] } })
    const server = await net.addPod({ id: 'bench-server', node: 0, namespace: 'default', capture: { appPorts: [80] } })
    net.setServices([{ name: 'origin', namespace: 'default' }])
    const vip = net.vip('origin')!
    // sidecars run as uid 1337: they must read their snapshots and keys
    chmodSync(o.dir, 0o755)
    for (const f of [o.files.clientKey, o.files.originKey]) chownSync(f, net.proxyUid, net.proxyUid)
    const file = (name: string, s: unknown): string => {
      const f = join(o.dir, name)
      writeFileSync(f, JSON.stringify(s), { mode: 0o644 })
      return f
    }
    const outSnap = (port: number): unknown => ({
      version: 'bench', node: { id: `client-${port}`, service: 'client' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
      services: [{ name: 'origin', port: 80, endpoints: [{ id: 'origin-sidecar-0', address: server.address, port, tls: true, identity: o.originIdentity }] }]
    })
    const inSnap = file('pod-in.json', {
      version: 'bench', node: { id: 'server', service: 'origin' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
      localApp: { address: '127.0.0.1', port: 80 }
    })
    const wrap = (pod: Pod, as: 'proxy' | 'app'): Wrap => (command, args) => net.command(pod, command, args, as)
    o.startNginx('origin-pod', o.originServer, wrap(server, 'app'))
    const f = o.files
    const [capturedServer, explicitServer] = await Promise.all([
      o.startMeshwork('meshwork-server-sidecar [captured]', ['--snapshot', inSnap, '--inbound', `0.0.0.0:${CAPTURE_DEFAULTS.inboundPort}`, '--admin', '0.0.0.0:15000', '--cert', f.originCert, '--key', f.originKey, '--ca', f.ca], wrap(server, 'proxy')),
      o.startMeshwork('meshwork-server-sidecar [pods, explicit]', ['--snapshot', inSnap, '--inbound', `0.0.0.0:${EXPLICIT_INBOUND}`, '--admin', '0.0.0.0:15100', '--cert', f.originCert, '--key', f.originKey, '--ca', f.ca], wrap(server, 'proxy'))
    ])
    const [capturedClient, explicitClient] = await Promise.all([
      // peers dial the server pod's app port (:80); its prerouting rule hands the connection to :15006
      o.startMeshwork('meshwork-client-sidecar [captured]', ['--snapshot', file('pod-out-captured.json', outSnap(80)), '--outbound', `127.0.0.1:${CAPTURE_DEFAULTS.outboundPort}`, '--admin', '127.0.0.1:15000', '--cert', f.clientCert, '--key', f.clientKey, '--ca', f.ca], wrap(client, 'proxy')),
      o.startMeshwork('meshwork-client-sidecar [pods, explicit]', ['--snapshot', file('pod-out-explicit.json', outSnap(EXPLICIT_INBOUND)), '--outbound', `127.0.0.1:${EXPLICIT_PORT}`, '--admin', '127.0.0.1:15100', '--cert', f.clientCert, '--key', f.clientKey, '--ca', f.ca], wrap(client, 'proxy'))
    ])
    return {
      net,
      inClient: wrap(client, 'app'),
      capturedUrl: `http://${vip}:80/`,
      explicitUrl: `http://127.0.0.1:${EXPLICIT_PORT}/`,
      captured: { client: capturedClient, server: capturedServer },
      explicit: { client: explicitClient, server: explicitServer },
      close: () => net.close()
    }
  } catch (err) {
    await net.close()
    throw err
  }
}
