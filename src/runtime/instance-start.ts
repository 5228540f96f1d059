/**
 * Starting and stopping the processes of one instance (sidecar, then app) or one gateway, wherever the mesh
 * network places them. The one place a sidecar is started: flags, network placement, supervision (the trust
 * work adds the instance's join credential here).
 */
import { LogSink } from './log-sink.ts'
import type { LocalMesh, RunningApp, RunningProxy } from './local-mesh.ts'
import type { InstancePlacement } from './mesh-network.ts'
import type { PlannedGateway, PlannedInstance } from './mesh-plan.ts'
import { meshworkCommand } from './meshwork-command.ts'
import { gatewayArgs, sidecarArgs } from './proxy-args.ts'

export interface StartContext {
  mesh: LocalMesh
  logDir: string
  echo: NodeJS.WritableStream | null
  readyTimeoutMs: number
  backoffMs: number
}

/** Placements of running instances and gateways, by id: released when they stop. */
const placements = new WeakMap<LocalMesh, Map<string, { release (): Promise<void> }>>()

function placementsOf (mesh: LocalMesh): Map<string, { release (): Promise<void> }> {
  let m = placements.get(mesh)
  if (m === undefined) { m = new Map(); placements.set(mesh, m) }
  return m
}

/** Start the sidecar of `inst`, wait for its `/ready`; then its app, and wait for the app to be ready. */
export async function startInstance (ctx: StartContext, inst: PlannedInstance): Promise<void> {
  const { mesh } = ctx
  const place = await mesh.network.placeInstance(inst)
  placementsOf(mesh).set(inst.id, place)
  const sidecar = await startSidecar(ctx, inst, place)
  const app = place.wrap({ command: inst.command, args: inst.args }, 'app')
  const appProc = mesh.supervisor.add({
    name: inst.id,
    command: app.command,
    args: app.args,
    cwd: inst.cwd,
    env: {
      ...inst.env,
      ...place.appEnv,
      SERVICE_NAME: inst.service,
      SERVICE_VERSION: inst.version,
      INSTANCE_ID: inst.id,
      POD_NAMESPACE: inst.namespace
    },
    unsetEnv: place.appUnsetEnv,
    initialBackoffMs: ctx.backoffMs,
    stdinLifeline: true,
    log: new LogSink(inst.id, ctx.logDir, ctx.echo)
  }, 'apps')
  const running: RunningApp = { id: inst.id, service: inst.service, version: inst.version, port: place.appPort, sidecar, process: appProc, spec: inst, pod: place.pod }
  mesh.apps.push(running)
  await mesh.supervisor.startAndWait(appProc, place.appReadyUrl, ctx.readyTimeoutMs)
}

/** The sidecar of an instance: `meshwork proxy` with the runtime's flags, in the instance's network. */
async function startSidecar (ctx: StartContext, inst: PlannedInstance, place: InstancePlacement): Promise<RunningProxy> {
  const { mesh } = ctx
  const name = `${inst.id}-sidecar`
  const launch = place.wrap(meshworkCommand(sidecarArgs({
    controlPlaneUrl: mesh.network.controlPlaneUrl,
    id: inst.id,
    service: inst.service,
    version: inst.version,
    namespace: inst.namespace,
    inbound: place.sidecar.inbound,
    outbound: place.sidecar.outbound,
    admin: place.sidecar.admin,
    app: place.sidecar.app,
    advertise: place.sidecar.advertise,
    dns: place.sidecar.dns,
    readinessPath: inst.readinessPath
  })), 'proxy')
  const proc = mesh.supervisor.add({
    name, command: launch.command, args: launch.args, cwd: place.proxyCwd, initialBackoffMs: ctx.backoffMs, stdinLifeline: true, log: new LogSink(name, ctx.logDir, ctx.echo)
  }, 'sidecars')
  const sidecar: RunningProxy = {
    id: inst.id, role: 'sidecar', service: inst.service, version: inst.version,
    adminUrl: place.adminUrl, metricsUrl: `${place.adminUrl}/metrics`,
    inboundPort: place.inboundPort, outboundPort: place.outboundPort, process: proc, pod: place.pod
  }
  mesh.proxies.push(sidecar)
  // the sidecar's /ready includes its certificate when mTLS needs one (it runs with --control-plane)
  await mesh.supervisor.startAndWait(proc, `${sidecar.adminUrl}/ready`, ctx.readyTimeoutMs)
  return sidecar
}

/** Stop one app instance and its sidecar (app first), forget them and give back their pod; pids stay in `pids()`. */
export async function stopInstance (ctx: StartContext, id: string): Promise<void> {
  const { mesh } = ctx
  const app = mesh.apps.find(a => a.id === id)
  const sidecar = mesh.proxies.find(p => p.id === id && p.role === 'sidecar')
  await app?.process.stop()
  await sidecar?.process.stop()
  if (app !== undefined) mesh.apps.splice(mesh.apps.indexOf(app), 1)
  if (sidecar !== undefined) mesh.proxies.splice(mesh.proxies.indexOf(sidecar), 1)
  const place = placementsOf(mesh).get(id)
  placementsOf(mesh).delete(id)
  await place?.release()
}

export async function startGateway (ctx: StartContext, gw: PlannedGateway, hostPort: number): Promise<void> {
  const { mesh } = ctx
  const place = await mesh.network.placeGateway(gw, hostPort)
  placementsOf(mesh).set(`gateway/${gw.id}`, place)
  const name = `${gw.id}-gateway`
  const launch = place.wrap(meshworkCommand(gatewayArgs({
    controlPlaneUrl: mesh.network.controlPlaneUrl, id: gw.id, role: gw.role, gateway: gw.name, namespace: gw.namespace, listen: place.listen, admin: place.admin
  })))
  const proc = mesh.supervisor.add({ name, command: launch.command, args: launch.args, cwd: place.proxyCwd, initialBackoffMs: ctx.backoffMs, stdinLifeline: true, log: new LogSink(name, ctx.logDir, ctx.echo) }, 'gateways')
  const proxy: RunningProxy = {
    id: gw.id, role: gw.role, adminUrl: place.adminUrl, metricsUrl: `${place.adminUrl}/metrics`, gatewayPort: Number(new URL(place.url).port), process: proc, pod: place.pod
  }
  mesh.proxies.push(proxy)
  await mesh.supervisor.startAndWait(proc, `${proxy.adminUrl}/ready`, ctx.readyTimeoutMs)
  if (gw.role === 'ingress' && mesh.ingressUrl === null) mesh.ingressUrl = place.url
  if (gw.role === 'egress' && mesh.egressUrl === null) mesh.egressUrl = place.url
}
