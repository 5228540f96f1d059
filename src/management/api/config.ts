import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { parseResources, resourceKey, type Resource } from '../../config/index.ts'
import { ConfigInvalidError } from '../../errors.ts'
import { diffResources } from '../config-diff.ts'
import type { ManagementContext } from '../server.ts'

const YamlBody = {
  type: 'object',
  required: ['yaml'],
  additionalProperties: false,
  properties: { yaml: { type: 'string', maxLength: 1_000_000 }, prune: { type: 'boolean' } }
} as const

/** Parse editor text with the same schemas as the CLI; problems carry line, path and reason. */
function validate (yaml: string): { ok: true, resources: Resource[] } | { ok: false, problems: ConfigInvalidError['problems'] } {
  try {
    return { ok: true, resources: parseResources(yaml, '<editor>').map(l => l.resource) }
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { ok: false, problems: err.problems }
    throw err
  }
}

export function currentYaml (resources: readonly Resource[]): string {
  return [...resources].sort((a, b) => resourceKey(a).localeCompare(resourceKey(b))).map(r => stringify(r)).join('---\n')
}

export async function registerConfigRoutes (app: FastifyInstance, ctx: ManagementContext): Promise<void> {
  app.get('/api/v1/config', async () => {
    const resources = await ctx.backend.resources()
    return { yaml: currentYaml(resources), resources }
  })

  app.post('/api/v1/config/validate', { schema: { body: YamlBody } }, async (req) => {
    const { yaml } = req.body as { yaml: string }
    const r = validate(yaml)
    return r.ok ? { ok: true, resources: r.resources.length } : { ok: false, code: 'MESH_ERR_CONFIG_INVALID', problems: r.problems }
  })

  app.post('/api/v1/config/diff', { schema: { body: YamlBody } }, async (req, reply) => {
    const { yaml, prune } = req.body as { yaml: string, prune?: boolean }
    const r = validate(yaml)
    if (!r.ok) return reply.status(400).send({ ok: false, code: 'MESH_ERR_CONFIG_INVALID', problems: r.problems })
    const current = await ctx.backend.resources()
    return { ok: true, changes: diffResources(current, r.resources, { prune }) }
  })

  // With `prune`, the text is the whole desired config (the editor shows all of it): resources missing
  // from it are deleted after the rest is applied, each step checked by the control plane.
  app.post('/api/v1/config/apply', { schema: { body: YamlBody } }, async (req, reply) => {
    const { yaml, prune } = req.body as { yaml: string, prune?: boolean }
    const r = validate(yaml)
    if (!r.ok) return reply.status(400).send({ ok: false, code: 'MESH_ERR_CONFIG_INVALID', problems: r.problems })
    const removed = prune === true ? diffResources(await ctx.backend.resources(), r.resources, { prune: true }).filter(c => c.change === 'removed').map(c => c.key) : []
    let result = await ctx.backend.apply(yaml, '<ui>')
    if (result.ok && removed.length > 0) result = await ctx.backend.delete(removed)
    ctx.events.publish('config', { ok: result.ok, version: result.version, code: result.code, message: result.message })
    if (!result.ok) return reply.status(result.code === 'MESH_ERR_CONFIG_CONFLICT' ? 409 : result.code === 'MESH_ERR_CONTROL_PLANE_UNAVAILABLE' ? 503 : 400).send(result)
    return result
  })

  app.get('/api/v1/proxies', async () => ({ proxies: await ctx.backend.proxies() }))
}
