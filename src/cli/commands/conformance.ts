import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildReport, formatReport } from '../../conformance/report.ts'
import { runConformance } from '../../conformance/runner.ts'
import { PROFILE_FLAGS, type ProfileName } from '../../conformance/support.ts'

export const usage = `Usage: meshwork conformance [--profile http|gamma|grpc]… [--report FILE] [--test NAME]… [--data-dir DIR]

Run the Gateway API conformance tests (kubernetes-sigs/gateway-api, the version pinned in
conformance/upstream/NOTICE) against a local mesh started for the run (loopback network, echo backends that
report what they received). Prints PASS/FAIL/SKIP per test, with the failing cases; what had to be adapted for
a runtime without Kubernetes is listed in conformance/ADAPTATIONS.md and in the report.

Options:
      --profile <name>   http (GATEWAY-HTTP), gamma (MESH-HTTP), grpc (GATEWAY-GRPC); repeatable (default: http and gamma)
      --report <file>    write a ConformanceReport YAML (gateway.networking.k8s.io/v1) there
      --test <name>      run only this test (ShortName, e.g. HTTPRouteMatching); repeatable
      --data-dir <dir>   where the mesh keeps logs and state (default: a temporary directory, removed after)
  -v, --verbose          show every process's output

Exit code 0 when no test failed, 1 otherwise.
`

export async function run (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', multiple: true },
      report: { type: 'string' },
      test: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false }
    }
  })
  const profiles: ProfileName[] = []
  for (const p of values.profile ?? ['http', 'gamma']) {
    const name = PROFILE_FLAGS[p]
    if (name === undefined) { process.stderr.write(`meshwork conformance: unknown profile "${p}" (http, gamma or grpc)\n\n${usage}`); return 2 }
    profiles.push(name)
  }
  const temp = values['data-dir'] === undefined ? mkdtempSync(join(tmpdir(), 'meshwork-conformance-')) : null
  try {
    const result = await runConformance({
      profiles,
      dataDir: values['data-dir'] ?? temp!,
      only: values.test,
      log: line => process.stdout.write(`${line}\n`),
      echo: values.verbose ? process.stderr : null
    })
    const report = buildReport(result, { version: 'v0.1.0' })
    if (values.report !== undefined) writeFileSync(values.report, formatReport(report))
    const count = (o: string): number => result.results.filter(r => r.outcome === o).length
    for (const p of profiles) {
      const mine = result.results.filter(r => r.profiles.some(x => x.profile === p))
      process.stdout.write(`${p}: ${mine.filter(r => r.outcome === 'passed').length} passed, ${mine.filter(r => r.outcome === 'failed').length} failed, ${mine.filter(r => r.outcome === 'skipped').length} skipped\n`)
    }
    if (values.report !== undefined) process.stdout.write(`report: ${values.report}\n`)
    return count('failed') > 0 ? 1 : 0
  } finally {
    if (temp !== null) rmSync(temp, { recursive: true, force: true })
  }
}
