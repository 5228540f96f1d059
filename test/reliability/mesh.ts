/**
 * A local mesh for the reliability scenarios, run by the real runtime (`startLocalMesh`: control plane in
 * this process, every sidecar a `meshwork proxy` process, every app a process of fixtures/echo-app.mjs).
 * The load enters through the outbound listener of the `client` workload's sidecar (the test plays that
 * app), so every request crosses a sidecar pair: client sidecar → (mTLS) → server sidecar → app.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type LocalMesh, type RunningApp, startLocalMesh } from '../../src/runtime/local-mesh.ts'

export const ECHO_APP = fileURLToPath(new URL('./fixtures/echo-app.mjs', import.meta.url))

/** A Workload running the echo app. */
export function echoWorkload (name: string, service: string, version: string, replicas = 1): string {
  return `apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: ${name} }
spec: { service: ${service}, version: ${version}, port: 9080, replicas: ${replicas}, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(ECHO_APP)}] }
`
}

export interface ReliabilityMesh {
  mesh: LocalMesh
  /** Outbound listener of the `client` workload's sidecar: where the load goes in. */
  entryPort: number
  app (id: string): RunningApp
  /**
   * Wait until the entry sidecar's applied snapshot lists `count` healthy endpoints of `service`.
   * (startLocalMesh resolves when every app answers its readiness path; the health reports still have to
   * travel sidecar → control plane → every caller's snapshot, which takes a moment more.)
   */
  waitHealthy (service: string, count: number, timeoutMs?: number): Promise<void>
  /** Requests the app instance served (its own counter, read directly from the app). */
  appCount (id: string): Promise<number>
  stop (): Promise<void>
}

/** Start `resources` (YAML) plus a `client` workload; everything is stopped and removed by `stop()`. */
export async function startReliabilityMesh (label: string, resources: string): Promise<ReliabilityMesh> {
  const dir = mkdtempSync(join(tmpdir(), `meshwork-rel-${label}-`))
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, [echoWorkload('client', 'client', 'v1'), resources].join('---\n'))
  let mesh: LocalMesh
  try {
    mesh = await startLocalMesh({ files: [file], dataDir: join(dir, 'data'), ingressPort: 0, controlPort: 0, echo: null, restartBackoffMs: 1000 })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const app = (id: string): RunningApp => {
    const a = mesh.app(id)
    if (a === undefined) throw new Error(`no app ${id} in ${mesh.apps.map(x => x.id).join(', ')}`)
    return a
  }
  return {
    mesh,
    entryPort: app('client-v1-0').sidecar.outboundPort!,
    app,
    waitHealthy: (service, count, timeoutMs = 30_000) => until(async () => {
      type Snap = { services: { name: string, endpoints: { healthy: boolean }[] }[] }
      const r = await fetch(`${app('client-v1-0').sidecar.adminUrl}/config`)
      const body = await r.json() as { snapshot?: Snap } & Snap
      const eps = (body.snapshot ?? body).services.find(s => s.name === service)?.endpoints ?? []
      return eps.length === count && eps.every(e => e.healthy)
    }, timeoutMs, `${count} healthy endpoints of ${service} in the client sidecar's snapshot`),
    appCount: async (id) => {
      const r = await fetch(`http://127.0.0.1:${app(id).port}/__count`)
      return (await r.json() as { count: number }).count
    },
    stop: async () => {
      await mesh.stop()
      // Every process must stop on SIGTERM (drain, then exit), not be SIGKILLed by the supervisor.
      const logs = join(dir, 'data', 'logs')
      const killed = readdirSync(logs).filter(f => readFileSync(join(logs, f), 'utf8').includes('did not stop within'))
      // RELIABILITY_KEEP_DIR=1 keeps the logs of every process (and the control plane's state) to debug a failure.
      if (process.env.RELIABILITY_KEEP_DIR === '1') console.log(`[reliability] ${label}: logs kept in ${dir}`)
      else rmSync(dir, { recursive: true, force: true })
      if (killed.length > 0) throw new Error(`not stopped by SIGTERM (SIGKILLed): ${killed.join(', ')}`)
    }
  }
}

/** Poll `pred` until it holds; throws after `timeoutMs` (generous: a loaded 2-core machine is slow). */
export async function until (pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
