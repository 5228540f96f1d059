import type { GoldenBy, GoldenPoint } from './golden-tables.ts'

// Golden-metric series from a Prometheus that scrapes the proxies (`meshwork up` writes its config; the management
// server is told its URL with --prometheus): the same five signals as the proxies' own numbers, as PromQL
// range queries over the proxies' `meshwork_requests_total` and `meshwork_request_duration_seconds`.

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')

/** The label matchers of one table row (as GoldenTables keys them). */
export function selectorFor (by: GoldenBy, key: string): string {
  switch (by) {
    case 'service': return `direction="inbound",destination="${esc(key)}"`
    // the proxy label is the one `meshwork up` puts on each scrape target
    case 'workload': return `direction="inbound",proxy="${esc(key)}"`
    case 'route': {
      const i = key.indexOf('/')
      return `direction="inbound",destination="${esc(key.slice(0, i))}",route="${esc(key.slice(i + 1))}"`
    }
    case 'source': {
      const [source, destination] = key.split('->')
      const gateway = source === 'ingress' || source === 'egress'
      return gateway ? `direction!="inbound",role="${esc(source)}",destination="${esc(destination)}"` : `direction="outbound",service="${esc(source)}",destination="${esc(destination)}"`
    }
  }
}

/**
 * The PromQL of each signal. Success counts a request as failed as the proxies' numbers do (isFailure): class
 * 5xx, or a gRPC status other than OK ("" or absent means not gRPC).
 */
export function goldenQueries (by: GoldenBy, key: string, window: string): Record<'rps' | 'ok' | 'p50' | 'p95' | 'p99', string> {
  const sel = selectorFor(by, key)
  const rate = `sum(rate(meshwork_requests_total{${sel}}[${window}]))`
  const q = (p: number): string => `histogram_quantile(${p}, sum by (le) (rate(meshwork_request_duration_seconds_bucket{${sel}}[${window}]))) * 1000`
  return {
    rps: rate,
    ok: `sum(rate(meshwork_requests_total{${sel},class!="5xx",grpc_status=~"|0"}[${window}])) / ${rate}`,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99)
  }
}

async function rangeQuery (base: string, promql: string, start: number, end: number, step: number): Promise<Map<number, number>> {
  const url = `${base}/api/v1/query_range?query=${encodeURIComponent(promql)}&start=${start}&end=${end}&step=${step}`
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const body = await res.json() as { status: string, error?: string, data?: { result: Array<{ values: Array<[number, string]> }> } }
  if (body.status !== 'success' || body.data === undefined) throw new Error(`Prometheus ${res.status}: ${body.error ?? body.status}`)
  const out = new Map<number, number>()
  for (const [t, v] of body.data.result[0]?.values ?? []) {
    const n = Number(v)
    if (Number.isFinite(n)) out.set(Math.round(t * 1000), n)
  }
  return out
}

/** Points every `stepS` seconds over the last `rangeS` seconds, for one row, from Prometheus. */
export async function prometheusSeries (base: string, by: GoldenBy, key: string, rangeS: number, stepS: number, now = Date.now()): Promise<GoldenPoint[]> {
  const end = Math.floor(now / 1000)
  const start = end - rangeS
  const window = `${Math.max(4 * stepS, 10)}s`
  const qs = goldenQueries(by, key, window)
  const [rps, ok, p50, p95, p99] = await Promise.all([qs.rps, qs.ok, qs.p50, qs.p95, qs.p99].map(q => rangeQuery(base, q, start, end, stepS)))
  const times = [...new Set([...rps.keys(), ...p99.keys()])].sort((a, b) => a - b)
  return times.map(t => ({ t, rps: rps.get(t) ?? 0, successRate: ok.get(t) ?? null, p50Ms: p50.get(t) ?? null, p95Ms: p95.get(t) ?? null, p99Ms: p99.get(t) ?? null }))
}
