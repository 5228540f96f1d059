import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** One browser session: made when the launch token is exchanged for a cookie. */
export interface Session {
  /** The value of the HttpOnly session cookie. */
  readonly id: string
  /** The per-session CSRF token the UI sends as `x-meshwork-csrf` on state-changing calls. */
  readonly csrf: string
  readonly createdAt: number
  lastSeenAt: number
}

export interface SessionStoreOptions {
  /** The launch token (`?token=` in the printed URL, or `Authorization: Bearer`). Default: 32 random bytes. */
  token?: string
  /** Sessions idle longer than this are forgotten. Default 12 h. */
  idleMs?: number
  /** At most this many sessions; the least recently used is dropped beyond it. Default 64. */
  maxSessions?: number
}

/** Constant-time comparison of two strings of any length (hashing first hides the length too). */
export function sameSecret (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}

/**
 * The management server's secrets: the launch token printed in the UI URL at start (as Jupyter does)
 * and the browser sessions it was exchanged for. Everything lives in memory: a restart makes a new
 * token and forgets every session, so an old cookie or URL stops working.
 *
 * @example
 * const store = new SessionStore(); const s = store.exchange(urlToken); if (s) setCookie(s.id)
 */
export class SessionStore {
  readonly token: string
  readonly #sessions = new Map<string, Session>()
  readonly #idleMs: number
  readonly #max: number

  constructor (opts: SessionStoreOptions = {}) {
    this.token = opts.token ?? randomBytes(32).toString('base64url')
    if (this.token.length < 16) throw new RangeError('the management token must be at least 16 characters')
    this.#idleMs = opts.idleMs ?? 12 * 3600_000
    this.#max = opts.maxSessions ?? 64
  }

  get size (): number { return this.#sessions.size }

  /** True when `candidate` is the launch token. */
  checkToken (candidate: string): boolean {
    return sameSecret(candidate, this.token)
  }

  /** A new session for a caller that presented the launch token; null when the token is wrong. */
  exchange (candidate: string, now = Date.now()): Session | null {
    if (!this.checkToken(candidate)) return null
    const s: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now }
    this.#sessions.set(s.id, s)
    // Map order is insertion order and lookup() re-inserts: the first key is the least recently used.
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string)
    return s
  }

  /** The live session of a cookie value, or null (unknown or idle too long). */
  lookup (id: string | undefined, now = Date.now()): Session | null {
    if (id === undefined || id === '') return null
    const s = this.#sessions.get(id)
    if (s === undefined) return null
    if (now - s.lastSeenAt > this.#idleMs) {
      this.#sessions.delete(id)
      return null
    }
    s.lastSeenAt = now
    this.#sessions.delete(id)
    this.#sessions.set(id, s)
    return s
  }

  /** Forget a session (logout). */
  end (id: string): void {
    this.#sessions.delete(id)
  }
}
