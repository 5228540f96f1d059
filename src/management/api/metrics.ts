import type { FastifyInstance } from 'fastify'
import { GOLDEN_BY, type GoldenBy, GoldenTables } from '../golden-tables.ts'
import { prometheusSeries } from '../prometheus-series.ts'
import type { ManagementContext } from '../server.ts'

/** Time ranges the charts offer (seconds), and the step of each. */
export const RANGES: Record<string, { seconds: number, step: number }> = {
  '5m': { seconds: 300, step: 2 },
  '15m': { seconds: 900, step: 5 },
  '1h': { seconds: 3600, step: 15 },
  '6h': { seconds: 21_600, step: 60 }
}

/**
 * Golden metrics: GET /api/v1/metrics/golden?by=service|workload|route|source[&service=] (tables, from the proxies'
 * metrics) and GET /api/v1/metrics/series?by=&key=&range= (a row over time: PromQL when a Prometheus is
 * configured, else the management server's own history of scrapes since it started).
 */
export async function registerMetricsRoutes (app: FastifyInstance, ctx: ManagementContext, prometheusUrl?: string): Promise<void> {
  const tables = new GoldenTables()
  ctx.metrics.onSamples((results, at) => tables.ingest(results, at))
  const by = (v: unknown): GoldenBy | null => GOLDEN_BY.includes(v as GoldenBy) ? v as GoldenBy : null

  app.get('/api/v1/metrics/golden', async (req, reply) => {
    const q = req.query as { by?: string, service?: string }
    const b = by(q.by ?? 'service')
    if (b === null) return reply.status(400).send({ code: 'MESH_ERR_API_BAD_REQUEST', message: `by must be one of ${GOLDEN_BY.join(', ')}` })
    return { by: b, rows: tables.rows(b, q.service), updatedAt: tables.updatedAt, source: 'proxies', prometheus: prometheusUrl ?? null }
  })

  app.get('/api/v1/metrics/series', async (req, reply) => {
    const q = req.query as { by?: string, key?: string, range?: string }
    const b = by(q.by ?? 'service')
    const range = RANGES[q.range ?? '5m']
    if (b === null || q.key === undefined || q.key === '' || range === undefined) {
      return reply.status(400).send({ code: 'MESH_ERR_API_BAD_REQUEST', message: `need by (${GOLDEN_BY.join(', ')}), key and range (${Object.keys(RANGES).join(', ')})` })
    }
    if (prometheusUrl !== undefined) {
      try {
        const points = await prometheusSeries(prometheusUrl, b, q.key, range.seconds, range.step)
        return { source: 'prometheus', step: range.step, points }
      } catch (err) {
        // Prometheus down: the proxies' numbers still answer, and the reply says which source it is.
        return { source: 'proxies', step: null, points: tables.history(b, q.key, Date.now() - range.seconds * 1000), warning: `Prometheus at ${prometheusUrl} did not answer: ${(err as Error).message}` }
      }
    }
    return { source: 'proxies', step: null, points: tables.history(b, q.key, Date.now() - range.seconds * 1000) }
  })
}
