import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig, KubernetesObjectApi, type KubernetesObject, PatchStrategy } from '@kubernetes/client-node'
import { stringify } from 'yaml'
import type { Resource } from '../../config/index.ts'
import { KubeconfigMissingError, KubernetesRejectedError, KubernetesUnreachableError } from '../../errors.ts'
import { translate } from '../translate.ts'
import type { Mesh, Unsupported } from '../unsupported.ts'

export interface ApplyKubernetesOptions {
  /** Path of a kubeconfig; default `$KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account. */
  kubeconfig?: string
  context?: string
  /** Bound on reaching the API server and on each request. Default 10 s. */
  timeoutMs?: number
  /** Translate to this mesh and apply its resources; without it, the Meshwork config goes to the `meshwork-mesh` ConfigMap. */
  to?: Mesh
  /** Namespace of the Meshwork install (for the ConfigMap). Default `meshwork`. */
  namespace?: string
  /** Server-side dry run: the API server validates and answers without persisting. */
  dryRun?: boolean
  fieldManager?: string
  /** For tests: the environment and home directory the kubeconfig is looked up in. */
  env?: NodeJS.ProcessEnv
  home?: string
}

export interface ApplyKubernetesResult {
  server: string
  applied: { apiVersion: string, kind: string, namespace?: string, name: string }[]
  unsupported: Unsupported[]
}

/**
 * `meshwork apply --kubernetes`: server-side apply (field manager `meshwork`, forced) of the Meshwork
 * config — as the control plane's ConfigMap, or translated with `to` — to the cluster of the user's
 * kubeconfig. Never hangs: the API server must accept a TCP connection and answer each request within
 * `timeoutMs`, else {@link KubernetesUnreachableError}.
 *
 * @example
 * await applyToKubernetes(resources, { to: 'istio' }) // throws MESH_ERR_KUBECONFIG_MISSING without a kubeconfig
 */
export async function applyToKubernetes (resources: readonly Resource[], opts: ApplyKubernetesOptions = {}): Promise<ApplyKubernetesResult> {
  let objects: object[]
  let unsupported: Unsupported[] = []
  if (opts.to !== undefined) {
    const t = translate(resources, opts.to)
    objects = t.resources
    unsupported = t.unsupported
  } else {
    objects = [meshConfigMap(resources, opts.namespace ?? 'meshwork')]
  }
  const r = await applyObjects(objects, opts)
  return { ...r, unsupported }
}

/** The control plane's config as installed by `meshwork install --kubernetes`. */
export function meshConfigMap (resources: readonly Resource[], namespace: string): object {
  const text = resources.map(r => stringify(r, { aliasDuplicateObjects: false })).join('---\n')
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'meshwork-mesh', namespace, labels: { 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': 'control-plane', 'app.kubernetes.io/part-of': 'meshwork' } }, data: { 'mesh.yaml': text } }
}

/** Server-side apply of Kubernetes objects, in order. */
export async function applyObjects (objects: readonly object[], opts: ApplyKubernetesOptions = {}): Promise<Omit<ApplyKubernetesResult, 'unsupported'>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const kc = loadKubeConfig(opts)
  const cluster = kc.getCurrentCluster()
  if (cluster === null) throw new KubeconfigMissingError(`the kubeconfig has no current cluster${opts.context !== undefined ? ` for context ${opts.context}` : ''}`)
  await probe(cluster.server, timeoutMs)
  const client = KubernetesObjectApi.makeApiClient(kc)
  const applied: ApplyKubernetesResult['applied'] = []
  for (const o of objects) {
    const obj = o as KubernetesObject & { apiVersion: string, kind: string, metadata: { name: string, namespace?: string } }
    const label = `${obj.kind}/${obj.metadata.namespace !== undefined ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`
    try {
      await withTimeout(client.patch(obj, undefined, opts.dryRun === true ? 'All' : undefined, opts.fieldManager ?? 'meshwork', true, PatchStrategy.ServerSideApply), timeoutMs, () => new KubernetesUnreachableError(`the API server at ${cluster.server} did not answer within ${timeoutMs} ms while applying ${label}`))
    } catch (err) {
      throw toMeshError(err, cluster.server, label)
    }
    applied.push({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}) })
  }
  return { server: cluster.server, applied }
}

function loadKubeConfig (opts: ApplyKubernetesOptions): KubeConfig {
  const env = opts.env ?? process.env
  const kc = new KubeConfig()
  const file = opts.kubeconfig ?? firstExisting(env.KUBECONFIG?.split(':').filter(Boolean) ?? []) ?? firstExisting([join(opts.home ?? homedir(), '.kube', 'config')])
  try {
    if (file !== undefined) {
      if (!existsSync(file)) throw new KubeconfigMissingError(`kubeconfig ${file} does not exist`)
      kc.loadFromFile(file)
    } else if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
      kc.loadFromCluster()
    } else {
      throw new KubeconfigMissingError('no kubeconfig: pass --kubeconfig, set $KUBECONFIG or create ~/.kube/config (no cluster is configured on this machine)')
    }
  } catch (err) {
    if (err instanceof KubeconfigMissingError) throw err
    throw new KubeconfigMissingError(`cannot read kubeconfig ${file ?? '(in-cluster)'}: ${(err as Error).message}`, { cause: err })
  }
  if (opts.context !== undefined) {
    if (!kc.getContexts().some(c => c.name === opts.context)) throw new KubeconfigMissingError(`the kubeconfig has no context ${opts.context}`)
    kc.setCurrentContext(opts.context)
  }
  return kc
}

function firstExisting (paths: string[]): string | undefined {
  return paths.find(p => existsSync(p))
}

/** A TCP connection to the API server within the timeout, or a clear MESH_ERR_KUBE_UNREACHABLE. */
function probe (server: string, timeoutMs: number): Promise<void> {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    return Promise.reject(new KubeconfigMissingError(`the kubeconfig's cluster server ${JSON.stringify(server)} is not a URL`))
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new KubernetesUnreachableError(`no Kubernetes cluster reachable: ${server} did not accept a connection within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => { clearTimeout(timer); socket.end(); resolve() })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new KubernetesUnreachableError(`no Kubernetes cluster reachable: ${server}: ${err.code ?? err.message}`, { cause: err }))
    })
  })
}

function withTimeout<T> (p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(onTimeout()), ms) })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

function toMeshError (err: unknown, server: string, label: string): Error {
  if (err instanceof KubernetesUnreachableError) return err
  const e = err as { code?: number | string, body?: unknown, message?: string, cause?: { code?: string } }
  const errno = typeof e.code === 'string' ? e.code : e.cause?.code
  if (errno !== undefined && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(errno)) {
    return new KubernetesUnreachableError(`no Kubernetes cluster reachable: ${server}: ${errno}`, { cause: err })
  }
  let reason = e.message ?? String(err)
  if (typeof e.body === 'string') {
    try { reason = (JSON.parse(e.body) as { message?: string }).message ?? reason } catch { /* not JSON: keep the message */ }
  } else if (typeof e.body === 'object' && e.body !== null && 'message' in e.body) {
    reason = String((e.body as { message: unknown }).message)
  }
  return new KubernetesRejectedError(`${label}: ${typeof e.code === 'number' ? `HTTP ${e.code}: ` : ''}${reason}`, { cause: err })
}
