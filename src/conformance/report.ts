/**
 * The run as a Gateway API `ConformanceReport` (gateway.networking.k8s.io/v1, the format of
 * conformance/apis/v1 of the suite): per profile, core and extended result, statistics, skipped and failed
 * tests, supported and unsupported features. Meshwork-specific detail (skip reasons, adaptations) goes in
 * each profile's `summary` and in the top-level `x-meshwork` extension, which the upstream schema ignores.
 */
import { stringify } from 'yaml'
import type { ConformanceRun, TestResult } from './runner.ts'
import { type ProfileName, profileFeatures, SUPPORTED_FEATURES, UNSUPPORTED_FEATURE_REASONS } from './support.ts'
import { ADAPTATIONS } from './translate.ts'

interface Status {
  result: 'success' | 'partial' | 'failure'
  statistics: { Failed: number, Passed: number, Skipped: number }
  skippedTests?: string[]
  failedTests?: string[]
}

function status (tests: TestResult[]): Status {
  const passed = tests.filter(t => t.outcome === 'passed')
  const failed = tests.filter(t => t.outcome === 'failed')
  const skipped = tests.filter(t => t.outcome === 'skipped')
  const s: Status = {
    result: failed.length > 0 ? 'failure' : skipped.length > 0 ? 'partial' : 'success',
    statistics: { Failed: failed.length, Passed: passed.length, Skipped: skipped.length }
  }
  if (skipped.length > 0) s.skippedTests = skipped.map(t => t.name)
  if (failed.length > 0) s.failedTests = failed.map(t => t.name)
  return s
}

export interface ReportMeta { version: string, date?: string }

/** The report object (stringify it with `formatReport`). */
export function buildReport (run: ConformanceRun, meta: ReportMeta): Record<string, unknown> {
  const profiles = run.profiles.map((p: ProfileName) => {
    const of = (level: 'core' | 'extended'): TestResult[] => run.results.filter(r => r.profiles.some(x => x.profile === p && x.level === level))
    const { core, extended } = profileFeatures(p)
    const core$ = status(of('core'))
    const ext = of('extended')
    const unsupported = [...core, ...extended].filter(f => !SUPPORTED_FEATURES.has(f))
    const all = [...of('core'), ...ext]
    return {
      name: p,
      summary: `Core tests ${core$.result === 'success' ? 'succeeded' : core$.result === 'partial' ? 'partially succeeded' : 'failed'}: ${core$.statistics.Passed} passed, ${core$.statistics.Failed} failed, ${core$.statistics.Skipped} skipped. ` +
        `Extended: ${ext.filter(t => t.outcome === 'passed').length} passed, ${ext.filter(t => t.outcome === 'failed').length} failed, ${ext.filter(t => t.outcome === 'skipped').length} skipped. ` +
        `${all.length} tests in all.`,
      core: core$,
      extended: {
        ...status(ext),
        supportedFeatures: [...core, ...extended].filter(f => SUPPORTED_FEATURES.has(f) && !core.includes(f)).sort(),
        unsupportedFeatures: unsupported.filter(f => !core.includes(f)).sort()
      }
    }
  })
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ConformanceReport',
    implementation: {
      organization: 'meshwork',
      project: 'meshwork',
      url: 'https://github.com/meshwork/meshwork',
      version: meta.version,
      contact: ['meshwork maintainers']
    },
    date: meta.date ?? new Date().toISOString(),
    gatewayAPIVersion: run.ref,
    gatewayAPIChannel: 'standard',
    mode: 'default',
    profiles,
    'x-meshwork': {
      upstream: { repository: 'https://github.com/kubernetes-sigs/gateway-api', ref: run.ref, commit: run.commit },
      unsupportedFeatures: Object.fromEntries(run.profiles.flatMap(p => { const f = profileFeatures(p); return [...f.core, ...f.extended] })
        .filter(f => !SUPPORTED_FEATURES.has(f)).sort().map(f => [f, UNSUPPORTED_FEATURE_REASONS[f] ?? 'not implemented'])),
      adaptations: Object.fromEntries(run.adaptations.sort().map(a => [a, ADAPTATIONS[a]])),
      tests: run.results.map(r => ({
        name: r.name,
        outcome: r.outcome,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        ...(r.cases.length > 0 ? { cases: `${r.cases.filter(c => c.ok).length}/${r.cases.length}` } : {}),
        ...(r.cases.some(c => !c.ok) ? { failedCases: r.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.error}`) } : {})
      }))
    }
  }
}

export function formatReport (report: Record<string, unknown>): string {
  return stringify(report, { lineWidth: 0 })
}

/** `name: outcome` per test: what the CI test compares with the committed report. */
export function outcomes (report: Record<string, unknown>): Record<string, string> {
  const tests = ((report['x-meshwork'] as { tests?: { name: string, outcome: string }[] } | undefined)?.tests) ?? []
  return Object.fromEntries(tests.map(t => [t.name, t.outcome]))
}
