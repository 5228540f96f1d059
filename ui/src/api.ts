import { useEffect, useRef, useState } from 'react'

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly body: any) { super(message) }
}

// The session's CSRF token (the server refuses state-changing calls without it): read once from
// GET /api/v1/session, which only this origin can read, and read again if the server says it is stale.
let csrfToken: Promise<string> | null = null

function sessionCsrf (): Promise<string> {
  csrfToken ??= fetch('/api/v1/session', { credentials: 'same-origin' })
    .then(r => (r.ok ? r.json() : Promise.reject(new Error(`session: HTTP ${r.status}`))))
    .then((s: { csrfToken: string | null }) => s.csrfToken ?? '')
  csrfToken.catch(() => { csrfToken = null })
  return csrfToken
}

async function send (path: string, method: string, init: { body?: unknown, signal?: AbortSignal } | undefined): Promise<Response> {
  const changing = method !== 'GET' && method !== 'HEAD'
  // State-changing calls always carry a JSON body (the server refuses any other content type).
  const body = init?.body !== undefined ? JSON.stringify(init.body) : changing ? '{}' : undefined
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (changing) headers['x-meshwork-csrf'] = await sessionCsrf()
  return await fetch(`/api/v1${path}`, { method, headers, body, signal: init?.signal, credentials: 'same-origin' })
}

export async function api<T = any> (path: string, init?: { method?: string, body?: unknown, signal?: AbortSignal }): Promise<T> {
  const method = init?.method ?? (init?.body !== undefined ? 'POST' : 'GET')
  let res = await send(path, method, init)
  if (res.status === 403 && res.headers.get('x-meshwork-error') === 'MESH_ERR_API_CSRF') {
    csrfToken = null
    res = await send(path, method, init)
  }
  const text = await res.text()
  let body: any = null
  try { body = text === '' ? null : JSON.parse(text) } catch { body = { message: text } }
  if (!res.ok) throw new ApiError(res.status, body?.code ?? 'MESH_ERR', body?.message ?? `HTTP ${res.status}`, body)
  return body as T
}

/**
 * Poll an API path every `ms` (and when `deps` change); keeps the last good value on errors, with the
 * time it was fetched (`updatedAt`) so a page can say how old it is. Each request is bounded in time.
 */
export function usePoll<T> (path: string | null, ms: number, deps: unknown[] = []): { data: T | null, error: string | null, updatedAt: number | null, reload: () => void } {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [updatedAt, setUpdatedAt] = useState<number | null>(null)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    if (path === null) return
    let alive = true
    const load = (): void => {
      api<T>(path, { signal: AbortSignal.timeout(Math.max(ms, 5000)) }).then(d => { if (alive) { setData(d); setError(null); setUpdatedAt(Date.now()) } }, (e: Error) => { if (alive) setError(e.message) })
    }
    load()
    const id = setInterval(load, ms)
    return () => { alive = false; clearInterval(id) }
  }, [path, ms, tick, ...deps])
  return { data, error, updatedAt, reload: () => setTick(t => t + 1) }
}

/** Server-sent events from the management server; reports whether the stream is connected. */
export function useEvents (onEvent: (type: string, data: any) => void): boolean {
  const [connected, setConnected] = useState(false)
  const handler = useRef(onEvent)
  handler.current = onEvent
  useEffect(() => {
    const es = new EventSource('/api/v1/events')
    es.onopen = () => setConnected(true)
    es.onerror = () => setConnected(false)
    for (const type of ['control-plane', 'metrics', 'config', 'traces', 'bench']) {
      es.addEventListener(type, (e) => {
        try { handler.current(type, JSON.parse((e as MessageEvent).data)) } catch { /* ignore */ }
      })
    }
    return () => es.close()
  }, [])
  return connected
}

export function fmt (n: number | null | undefined, digits = 1, unit = ''): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return `${n.toFixed(digits)}${unit}`
}

export function pct (n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : `${(n * 100).toFixed(n >= 0.9995 ? 0 : 1)}%`
}
