import type { FastifyInstance } from 'fastify'
import { stringify } from 'yaml'
import { MESHES, translate } from '../../adapters/translate.ts'
import type { ManagementContext } from '../server.ts'
import { currentYaml } from './config.ts'

/**
 * Learn view: the running config as Istio, Linkerd and Consul resources, with every field a mesh
 * cannot express listed (the same translators as `meshwork translate`).
 */
export async function registerLearnRoutes (app: FastifyInstance, ctx: ManagementContext): Promise<void> {
  app.get('/api/v1/translate', async (req, reply) => {
    const to = (req.query as { to?: string }).to
    const targets = to === undefined || to === '' ? MESHES : MESHES.filter(m => m === to)
    if (targets.length === 0) return reply.status(400).send({ code: 'MESH_ERR_API_BAD_REQUEST', message: `unknown mesh "${to}"; expected one of ${MESHES.join(', ')}` })
    // Workloads say how to run processes locally: no mesh's routing config expresses them, so they are
    // left out of the comparison rather than reported as unsupported.
    const resources = (await ctx.backend.resources()).filter(r => r.kind !== 'Workload')
    const translations = targets.map(target => {
      const out = translate(resources, target)
      return { target, yaml: out.resources.map(r => stringify(r)).join('---\n'), resources: out.resources, unsupported: out.unsupported }
    })
    return { meshwork: currentYaml(resources), translations }
  })
}
