// Issue 19: `meshwork bench compare <group> <group>` compares two suites (or two runs of the UI) per
// scenario, and an id the store does not have says where it looked and which flag points elsewhere.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanEnv, cli } from './cli.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'meshwork-bench-groups-'))
after(() => rmSync(dataDir, { recursive: true, force: true }))
const env = cleanEnv({ MESHWORK_DATA_DIR: dataDir })

async function suite (): Promise<string> {
  const r = await cli(['bench', 'suite', '--scenarios', 'no-mesh', '--repeat', '1', '-d', '500ms', '--warmup', '100ms', '-c', '2', '-t', '1', '--json'], { env, timeoutMs: 120_000 })
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { group: string }).group
}

test('bench compare <group> <group> puts the scenarios of both side by side, ratios to the first group', async () => {
  const a = await suite()
  const b = await suite()
  const text = await cli(['bench', 'compare', a.slice(0, 8), b], { env })
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /ratios to the same scenario in the first group/)
  assert.match(text.stdout, new RegExp(`^${a.slice(0, 8)}\\s+no-mesh\\s+1\\s+[\\d,]+\\s+[\\d.]+\\s+[\\d.]+\\s+[\\d.]+\\s+1\\.00x\\s+1\\.00x\\s+1\\.00x$`, 'm'))
  assert.match(text.stdout, new RegExp(`^${b.slice(0, 8)}\\s+no-mesh\\s+1\\s`, 'm'))
  const json = await cli(['bench', 'compare', a, b, '--json'], { env })
  assert.equal(json.code, 0, json.stderr)
  const groups = JSON.parse(json.stdout) as Array<{ group: string, scenarios: Array<{ scenario: string, runs: number, p50: number }> }>
  assert.deepEqual(groups.map(g => [g.group, g.scenarios.map(s => s.scenario)]), [[a, ['no-mesh']], [b, ['no-mesh']]])
  assert.ok(groups.every(g => g.scenarios[0].runs === 1 && g.scenarios[0].p50 > 0))
})

test('an unknown id is MESH_ERR_BENCH_RESULT_NOT_FOUND naming the store it read and --data-dir', async () => {
  const r = await cli(['bench', 'show', 'deadbeef'], { env })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /MESH_ERR_BENCH_RESULT_NOT_FOUND: no stored benchmark result with id "deadbeef" in .*bench\.db; .*--data-dir <dir>/)
})
