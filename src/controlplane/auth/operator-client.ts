import { Agent, type RequestInit, type Response, fetch as undiciFetch } from 'undici'
import { checkControlPlaneIdentity } from '../../dataplane/tls/control-plane-identity.ts'
import type { OperatorCredential } from './operator-credential.ts'

/** What an operator client needs: the credential's endpoint, CA bundle and token. */
export type OperatorTarget = Pick<OperatorCredential, 'endpoint' | 'caBundlePem' | 'token'>

/**
 * HTTP calls to the control plane as an operator: TLS pinned to the mesh CA (the server must present
 * the control plane's SPIFFE ID) and `authorization: Bearer <operator token>`. One connection pool per
 * client; `close()` ends it.
 *
 * @example
 * const op = new OperatorClient(readOperatorCredential('.meshwork/control/operator-credential.json'))
 * const proxies = await (await op.fetch('/v1/proxies')).json()
 */
export class OperatorClient {
  readonly endpoint: string
  private readonly token: string
  private readonly agent: Agent

  constructor (target: OperatorTarget) {
    this.endpoint = target.endpoint.replace(/\/$/, '')
    this.token = target.token
    this.agent = new Agent({ connect: { ca: target.caBundlePem, checkServerIdentity: checkControlPlaneIdentity } })
  }

  /** `path` is relative to the endpoint (`/v1/…`); `init.headers` is a plain object. */
  fetch (path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    return undiciFetch(new URL(path, this.endpoint + '/'), { ...init, headers: { ...init.headers, authorization: `Bearer ${this.token}` }, dispatcher: this.agent })
  }

  /** The same call without the operator token (to show it is refused). */
  fetchAnonymous (path: string, init: RequestInit = {}): Promise<Response> {
    return undiciFetch(new URL(path, this.endpoint + '/'), { ...init, dispatcher: this.agent })
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
