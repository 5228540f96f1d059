import type { FastifyInstance } from 'fastify'
import { SCENARIO_NAMES } from '../../bench/scenarios/scenarios.ts'
import { BenchJobs, type StartRequest } from '../bench-jobs.ts'
import type { ManagementContext } from '../server.ts'

const StartBody = {
  type: 'object',
  required: ['scenarios'],
  additionalProperties: false,
  properties: {
    scenarios: { type: 'array', minItems: 1, maxItems: SCENARIO_NAMES.length, uniqueItems: true, items: { type: 'string', enum: SCENARIO_NAMES } },
    rate: { type: 'number', minimum: 0, maximum: 1_000_000 },
    durationMs: { type: 'integer', minimum: 500, maximum: 3_600_000 },
    connections: { type: 'integer', minimum: 1, maximum: 1000 },
    repeats: { type: 'integer', minimum: 1, maximum: 10 }
  }
} as const

/** Benchmarks from the UI: start (with live progress over SSE), cancel, results, compare, SMP export. */
export function benchmarkRoutes (app: FastifyInstance, ctx: ManagementContext): void {
  const jobs = new BenchJobs(`${ctx.dataDir}`, data => ctx.events.publish('bench', data))
  app.addHook('onClose', async () => { await jobs.close() })

  app.get('/api/v1/benchmarks/scenarios', async () => ({ scenarios: jobs.scenarios() }))
  app.get('/api/v1/benchmarks', async () => ({ runs: jobs.list() }))
  app.post('/api/v1/benchmarks', { schema: { body: StartBody } }, async (req, reply) => {
    const b = req.body as Partial<StartRequest> & { scenarios: StartRequest['scenarios'] }
    const run = jobs.start({ scenarios: b.scenarios, rate: b.rate ?? 200, durationMs: b.durationMs ?? 5000, connections: b.connections ?? 16, repeats: b.repeats ?? 1 })
    return reply.status(202).send(run)
  })
  app.post('/api/v1/benchmarks/import', async (req, reply) => reply.status(201).send(jobs.import(req.body)))
  app.get('/api/v1/benchmarks/compare', async (req) => {
    const ids = String((req.query as { ids?: string }).ids ?? '').split(',').filter(s => s !== '').slice(0, 8)
    return { runs: ids.map(id => jobs.get(id)) }
  })
  app.get('/api/v1/benchmarks/:id', async (req) => jobs.get((req.params as { id: string }).id))
  app.post('/api/v1/benchmarks/:id/cancel', async (req) => jobs.cancel((req.params as { id: string }).id))
  app.get('/api/v1/benchmarks/:id/export', async (req, reply) => {
    const id = (req.params as { id: string }).id
    return reply.header('content-disposition', `attachment; filename="meshwork-${id}.smp.json"`).send(jobs.smp(id))
  })
}
