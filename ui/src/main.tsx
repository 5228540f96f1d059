import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { usePoll, useEvents } from './api.ts'
import { BenchmarksPage } from './pages/Benchmarks.tsx'
import { ConfigPage } from './pages/Config.tsx'
import { LearnPage } from './pages/Learn.tsx'
import { TapPage } from './pages/Tap.tsx'
import { TopologyPage } from './pages/Topology.tsx'
import { TracesPage } from './pages/Traces.tsx'

const PAGES = {
  topology: { title: 'Topology', Page: TopologyPage },
  config: { title: 'Config', Page: ConfigPage },
  learn: { title: 'Learn', Page: LearnPage },
  traces: { title: 'Traces', Page: TracesPage },
  tap: { title: 'Tap', Page: TapPage },
  benchmarks: { title: 'Benchmarks', Page: BenchmarksPage }
} as const
type PageId = keyof typeof PAGES

function currentPage (): PageId {
  const id = location.hash.replace(/^#\/?/, '').split('/')[0]
  return id in PAGES ? id as PageId : 'topology'
}

function App () {
  const [page, setPage] = useState<PageId>(currentPage())
  useEffect(() => {
    const on = (): void => setPage(currentPage())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  const [cp, setCp] = useState<boolean | null>(null)
  const status = usePoll<{ controlPlane: { connected: boolean, url: string, error?: string } }>('/status', 3000)
  useEffect(() => { if (status.data !== null) setCp(status.data.controlPlane.connected) }, [status.data])
  const live = useEvents((type, data) => { if (type === 'control-plane') setCp(Boolean(data.connected)) })
  const server = status.error === null && status.data !== null
  const { Page } = PAGES[page]
  return (
    <div className='app'>
      <header className='top'>
        <h1>Meshwork</h1>
        <nav>{(Object.keys(PAGES) as PageId[]).map(id => <a key={id} href={`#/${id}`} className={id === page ? 'active' : ''}>{PAGES[id].title}</a>)}</nav>
        <div className='conn' data-testid='connection'>
          <span className={`dot ${server && live ? 'up' : 'down'}`} /> server {server && live ? 'live' : 'reconnecting…'}
          <span className={`dot ${cp === true ? 'up' : 'down'}`} data-testid='cp-state' data-state={cp === true ? 'connected' : 'disconnected'} /> control plane {cp === true ? 'connected' : cp === false ? 'unreachable — proxies keep the last config' : '…'}
        </div>
      </header>
      <main><Page /></main>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(<App />)
