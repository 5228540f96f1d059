/**
 * The published Istio and Gateway API model schemas accept unknown fields (no `additionalProperties: false`), so a
 * misspelt field would pass `validateManifest`. This test helper loads the same schemas, closes every
 * object that lists its properties, and validates again: an unknown field fails here.
 *
 * How: the model modules (CommonJS build) register their JSON schemas lazily through
 * `@kubernetes-models/validate`'s `register(id, schema)`; a require hook hands them a recorder instead.
 */
import Module, { createRequire } from 'node:module'

type Schema = Record<string, any>
const require = createRequire(import.meta.url)
const validatePath = require.resolve('@kubernetes-models/validate')
const Ajv = createRequire(validatePath)('ajv').default ?? createRequire(validatePath)('ajv')
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
const registered = new Set<string>()

const recorder = {
  register (id: string, schema: Schema): void {
    if (registered.has(id)) return
    registered.add(id)
    ajv.addSchema(close(structuredClone(schema)), id)
  },
  validate (id: string, data: unknown): void {
    const fn = ajv.getSchema(id)
    if (fn === undefined) throw new Error(`no schema ${id}`)
    if (fn(data) !== true) throw new Error(ajv.errorsText(fn.errors, { separator: '; ' }))
  }
}

const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown }
const original = loader._load
loader._load = function (request, parent, isMain) {
  if (request === '@kubernetes-models/validate') return recorder
  return original.call(this, request, parent, isMain)
}

/** Close object schemas: properties listed and no escape hatch → no other keys allowed. */
function close (s: Schema): Schema {
  if (typeof s !== 'object' || s === null) return s
  if (Array.isArray(s)) { s.forEach(close); return s }
  for (const v of Object.values(s)) if (typeof v === 'object' && v !== null) close(v)
  // `properties: {}` is a free-form Struct (EnvoyFilter patch values): left open.
  if (s.properties !== undefined && Object.keys(s.properties).length > 0 && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) s.additionalProperties = false
  return s
}

const MODULES: Record<string, string> = {
  'networking.istio.io/v1beta1': '@kubernetes-models/istio/networking.istio.io/v1beta1',
  'networking.istio.io/v1alpha3': '@kubernetes-models/istio/networking.istio.io/v1alpha3',
  'security.istio.io/v1beta1': '@kubernetes-models/istio/security.istio.io/v1beta1',
  'telemetry.istio.io/v1alpha1': '@kubernetes-models/istio/telemetry.istio.io/v1alpha1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  'gateway.networking.k8s.io/v1alpha2': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2'
}

/**
 * Problems of `obj` against its closed published schema; `null` when no published model covers its kind
 * (Linkerd and Consul kinds: their zod schemas are strict already; core Kubernetes kinds: kubernetes-models
 * ships them as precompiled validators, without a schema to close).
 */
export function strictProblems (obj: { apiVersion?: string, kind?: string }): string[] | null {
  // GRPCRoute v1 is the v1alpha2 schema the model package ships (see validate-manifest.ts).
  if (obj.apiVersion === 'gateway.networking.k8s.io/v1' && obj.kind === 'GRPCRoute') obj = { ...obj, apiVersion: 'gateway.networking.k8s.io/v1alpha2' }
  const mod = MODULES[String(obj.apiVersion)]
  if (mod === undefined) return null
  let Model: (new (d: unknown) => { validate (): void }) | undefined
  try {
    Model = (require(`${mod}/${String(obj.kind)}`) as Record<string, any>)[String(obj.kind)]
  } catch {
    return null
  }
  if (Model === undefined) return null
  try {
    new Model(obj).validate()
    return []
  } catch (err) {
    return [(err as Error).message]
  }
}
