/**
 * The long variants of the reliability scenarios (test/reliability/ runs them shorter in CI): each one
 * for RELIABILITY_SECONDS (default 60), one after the other, then every scenario's summary line.
 * Exits 1 if any scenario's assertions failed.
 *
 * Run: node --import tsx bench/reliability-long.ts
 * Env: RELIABILITY_SECONDS (60), RELIABILITY_SCENARIOS (comma list of: hot-reload, replica-kill,
 *      control-plane-restart, cert-rotation, node-loss; default all; node-loss needs root and is skipped
 *      without it).
 */
import { scenarioSeconds } from '../test/reliability/load.ts'
import { runCertRotation } from '../test/reliability/scenarios/cert-rotation.ts'
import { runControlPlaneRestart } from '../test/reliability/scenarios/control-plane-restart.ts'
import { runHotReload } from '../test/reliability/scenarios/hot-reload.ts'
import { runNodeLoss } from '../test/reliability/scenarios/node-loss.ts'
import { runReplicaKill } from '../test/reliability/scenarios/replica-kill.ts'
import { podNetworkUnsupportedReason } from '../src/runtime/netns/capability.ts'

const SCENARIOS: Record<string, (seconds: number) => Promise<{ line: string }>> = {
  'hot-reload': s => runHotReload(s),
  'replica-kill': s => runReplicaKill(s),
  'control-plane-restart': s => runControlPlaneRestart(s),
  'cert-rotation': s => runCertRotation(s),
  'node-loss': async s => {
    const why = podNetworkUnsupportedReason()
    return why === null ? runNodeLoss(s) : { line: `[reliability] node-loss: skipped: pod networking ${why}` }
  }
}

const seconds = scenarioSeconds(60)
const only = process.env.RELIABILITY_SCENARIOS?.split(',').map(s => s.trim()).filter(Boolean) ?? Object.keys(SCENARIOS)
const lines: string[] = []
let failed = 0
for (const name of only) {
  const run = SCENARIOS[name]
  if (run === undefined) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`)
  process.stderr.write(`reliability: ${name} for ${seconds} s…\n`)
  try {
    lines.push((await run(seconds)).line)
  } catch (err) {
    failed++
    lines.push(`[reliability] ${name}: FAILED: ${(err as Error).message.split('\n')[0]}`)
  }
}
console.log(`\nreliability scenarios, ${seconds} s each:`)
for (const l of lines) console.log(l)
process.exit(failed > 0 ? 1 : 0)
