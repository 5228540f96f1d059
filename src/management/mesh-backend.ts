import type { ConfigProblem } from '../errors.ts'
import type { Resource } from '../config/index.ts'

/** A proxy as the control plane sees it. */
export interface ProxyInfo {
  id: string
  role: string
  service?: string
  version?: string
  connected: boolean
  ackedVersion?: string
  lastNack?: string
  healthy?: boolean
  admin?: string
}

export interface ApplyResult {
  ok: boolean
  version?: string
  code?: string
  message?: string
  problems?: ConfigProblem[]
}

/**
 * What the management plane needs from the control plane. The HTTP implementation talks to a running
 * control plane; it must never throw on a control plane that is down: calls report `connected: false`.
 */
export interface MeshBackend {
  readonly url: string
  status (): Promise<{ connected: boolean, version?: string, error?: string }>
  resources (): Promise<Resource[]>
  apply (yaml: string, source: string): Promise<ApplyResult>
  /** Delete resources by `Kind/namespace/name`, all or nothing, with the control plane's consistency checks. */
  delete (keys: string[]): Promise<ApplyResult>
  proxies (): Promise<ProxyInfo[]>
}
