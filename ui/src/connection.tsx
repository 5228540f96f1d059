import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react'
import { api, useEvents } from './api.ts'

/**
 * What the UI knows about its back ends, shared by the header and the pages. The management server is
 * "live" while its event stream is open and its /status answered within the last few seconds; when it
 * is gone, nothing is claimed about the control plane behind it (issue 19: the header kept saying
 * "control plane connected" and the graph kept its numbers without a word).
 */
export interface Connection {
  server: 'connecting' | 'live' | 'disconnected'
  controlPlane: 'connected' | 'unreachable' | 'unknown'
  /** When /status last answered (client clock), null before the first answer. */
  lastContact: number | null
  /** Proxy metrics older than three scrape intervals (the scraper is stuck or the proxies are gone). */
  metricsStale: boolean
  /** The management server's data dir (bench.db), for the CLI commands the UI shows. */
  dataDir: string | null
}

interface Status {
  controlPlane: { connected: boolean, url: string, error?: string }
  scrape: { targets: number, lastScrapeAt: number, intervalMs?: number }
  time: number
  dataDir?: string
}

const POLL_MS = 2000
const STATUS_TIMEOUT_MS = 2500
/** No answer for this long: the server is gone (two polls missed). */
const SILENCE_MS = 5000

const ConnectionContext = createContext<Connection>({ server: 'connecting', controlPlane: 'unknown', lastContact: null, metricsStale: false, dataDir: null })

export function useConnection (): Connection {
  return useContext(ConnectionContext)
}

export function ConnectionProvider ({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status | null>(null)
  const [lastContact, setLastContact] = useState<number | null>(null)
  const [cpLive, setCpLive] = useState<boolean | null>(null)
  const [now, setNow] = useState(Date.now())
  const failures = useRef(0)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    let alive = true
    const poll = (): void => {
      api<Status>('/status', { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) }).then(s => {
        if (!alive) return
        failures.current = 0
        setFailed(false)
        setStatus(s)
        setCpLive(s.controlPlane.connected)
        setLastContact(Date.now())
      }, () => {
        if (!alive) return
        failures.current++
        setFailed(true)
      })
      setNow(Date.now())
    }
    poll()
    const id = setInterval(poll, POLL_MS)
    return () => { alive = false; clearInterval(id) }
  }, [])
  const stream = useEvents((type, data) => { if (type === 'control-plane') setCpLive(Boolean(data.connected)) })

  const heard = lastContact !== null && now - lastContact < SILENCE_MS && !failed
  const server: Connection['server'] = lastContact === null ? (failed ? 'disconnected' : 'connecting') : heard && stream ? 'live' : 'disconnected'
  const controlPlane: Connection['controlPlane'] = server !== 'live' || cpLive === null ? 'unknown' : cpLive ? 'connected' : 'unreachable'
  const scrape = status?.scrape
  const metricsStale = scrape !== undefined && scrape.targets > 0 && scrape.lastScrapeAt > 0 &&
    status!.time - scrape.lastScrapeAt > 3 * (scrape.intervalMs ?? POLL_MS) + 2000
  return <ConnectionContext.Provider value={{ server, controlPlane, lastContact, metricsStale, dataDir: status?.dataDir ?? null }}>{children}</ConnectionContext.Provider>
}
