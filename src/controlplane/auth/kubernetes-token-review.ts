import { Agent, fetch as undiciFetch } from 'undici'
import { AttestationInvalidError, TokenReviewUnavailableError } from '../../errors.ts'
import { refusal } from './join-tokens.ts'

/** The audience Meshwork's projected service-account tokens carry (`meshwork inject` mounts them). */
export const MESHWORK_TOKEN_AUDIENCE = 'meshwork'

export interface TokenReviewOptions {
  /** The API server, e.g. https://kubernetes.default.svc. */
  apiServerUrl: string
  /** The control plane's own credential for the API server (its service-account token). */
  bearerToken?: string
  /** CA of the API server (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt). */
  caPem?: string
  audience?: string
  timeoutMs?: number
}

/** Who a reviewed token belongs to. */
export interface ReviewedAccount { namespace: string, serviceAccount: string, podName: string | null }

/**
 * Verifies a projected service-account token with the API server's TokenReview
 * (authentication.k8s.io/v1), asking for the Meshwork audience, as istiod does for its CSR API.
 *
 * @example
 * const review = new TokenReviewer({ apiServerUrl: 'https://kubernetes.default.svc', bearerToken, caPem })
 * const { namespace, serviceAccount } = await review.review(podToken)
 */
export class TokenReviewer {
  private readonly opts: TokenReviewOptions
  private readonly agent: Agent

  constructor (opts: TokenReviewOptions) {
    this.opts = opts
    this.agent = new Agent({ connect: opts.caPem ? { ca: opts.caPem } : {} })
  }

  async review (token: string): Promise<ReviewedAccount> {
    const audience = this.opts.audience ?? MESHWORK_TOKEN_AUDIENCE
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } }
    let res: Awaited<ReturnType<typeof undiciFetch>>
    try {
      res = await undiciFetch(new URL('/apis/authentication.k8s.io/v1/tokenreviews', this.opts.apiServerUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(this.opts.bearerToken ? { authorization: `Bearer ${this.opts.bearerToken}` } : {}) },
        body: JSON.stringify(body),
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000)
      })
    } catch (err) {
      throw new TokenReviewUnavailableError(`TokenReview at ${this.opts.apiServerUrl} failed: ${(err as Error).message}`, { cause: err })
    }
    const answer = await res.json().catch(() => null) as { kind?: string, status?: { authenticated?: boolean, error?: string, audiences?: string[], user?: { username?: string, extra?: Record<string, string[]> } } } | null
    if (res.status !== 201 && res.status !== 200) throw new TokenReviewUnavailableError(`TokenReview at ${this.opts.apiServerUrl} answered HTTP ${res.status}${answer && typeof (answer as { message?: string }).message === 'string' ? `: ${(answer as { message: string }).message}` : ''} (does the control plane's ClusterRole allow tokenreviews create?)`)
    if (answer?.kind !== 'TokenReview' || answer.status === undefined) throw new TokenReviewUnavailableError(`TokenReview at ${this.opts.apiServerUrl}: the answer is not a TokenReview`)
    const st = answer.status
    if (st.authenticated !== true) throw refusal(new AttestationInvalidError(`the service-account token was not authenticated by the API server${st.error ? ` (${st.error})` : ''}`), 'kubernetes-token-invalid')
    // The API server only returns audiences it validated; an empty list means it ignored ours.
    if (!Array.isArray(st.audiences) || !st.audiences.includes(audience)) throw refusal(new AttestationInvalidError(`the service-account token is not for the audience "${audience}"`), 'kubernetes-token-audience')
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(st.user?.username ?? '')
    if (m === null) throw refusal(new AttestationInvalidError(`the token belongs to ${st.user?.username ?? '(nobody)'}, not to a service account`), 'kubernetes-token-invalid')
    const pod = st.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0] ?? null
    return { namespace: m[1], serviceAccount: m[2], podName: pod }
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
