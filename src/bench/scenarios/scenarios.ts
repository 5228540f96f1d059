import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The scenarios a suite compares: the same app and the same load, with different data planes in
 * front. Every meshed scenario has the mesh shape: load → client-side sidecar → server-side sidecar → app.
 */
export const SCENARIOS = {
  'no-mesh': { mesh: 'none', description: 'load → app (baseline)' },
  'meshwork-plain': { mesh: 'meshwork', description: 'Meshwork sidecars, mTLS off, tracing off' },
  'meshwork-mtls': { mesh: 'meshwork', description: 'Meshwork sidecars, mTLS on, tracing off' },
  'meshwork-mtls-tracing': { mesh: 'meshwork', description: 'Meshwork sidecars, mTLS on, tracing on (100% sampled, OTLP export)' },
  'nginx-mtls': { mesh: 'nginx', description: 'nginx sidecars, mTLS between them' },
  'haproxy-mtls': { mesh: 'haproxy', description: 'HAProxy sidecars, mTLS between them' }
} as const
export type ScenarioName = keyof typeof SCENARIOS
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[]
export const BASELINE: ScenarioName = 'no-mesh'

export function isScenarioName (s: string): s is ScenarioName {
  return Object.hasOwn(SCENARIOS, s)
}

/** Path of an executable on $PATH (or the usual sbin dirs), or null. */
export function findExecutable (name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const d of dirs) {
    if (d === '') continue
    const p = join(d, name)
    if (existsSync(p)) return p
  }
  return null
}

/** Whether the Meshwork data plane is present in this build. */
export function meshworkProxyAvailable (): boolean {
  const fromSource = import.meta.url.endsWith('.ts')
  return existsSync(fileURLToPath(new URL(fromSource ? '../../dataplane/proxy.ts' : '../../dataplane/proxy.js', import.meta.url)))
}

/** Which scenarios can run here, and why the others cannot. */
export function scenarioAvailability (): Record<ScenarioName, string | null> {
  const meshwork = meshworkProxyAvailable() ? null : 'the Meshwork proxy (src/dataplane/proxy.ts) is not in this build'
  return {
    'no-mesh': null,
    'meshwork-plain': meshwork,
    'meshwork-mtls': meshwork,
    'meshwork-mtls-tracing': meshwork,
    'nginx-mtls': findExecutable('nginx') ? null : 'nginx is not installed (bash scripts/install-system-deps.sh)',
    'haproxy-mtls': findExecutable('haproxy') ? null : 'haproxy is not installed (bash scripts/install-system-deps.sh)'
  }
}
