import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { ConnectionProvider, useConnection } from './connection.tsx'
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
  const conn = useConnection()
  const { Page } = PAGES[page]
  return (
    <div className='app'>
      <header className='top'>
        <h1>Meshwork</h1>
        <nav>{(Object.keys(PAGES) as PageId[]).map(id => <a key={id} href={`#/${id}`} className={id === page ? 'active' : ''}>{PAGES[id].title}</a>)}</nav>
        <div className='conn' data-testid='connection'>
          <span className={`dot ${conn.server === 'live' ? 'up' : 'down'}`} data-testid='server-state' data-state={conn.server} />
          management server {conn.server === 'live' ? 'live' : conn.server === 'connecting' ? 'connecting…' : 'disconnected — what you see may be stale'}
          <span className={`dot ${conn.controlPlane === 'connected' ? 'up' : conn.controlPlane === 'unknown' ? 'unknown' : 'down'}`} data-testid='cp-state' data-state={conn.controlPlane === 'connected' ? 'connected' : conn.controlPlane === 'unreachable' ? 'disconnected' : 'unknown'} />
          control plane {conn.controlPlane === 'connected' ? 'connected' : conn.controlPlane === 'unreachable' ? 'unreachable — proxies keep the last config' : 'unknown'}
        </div>
      </header>
      <main><Page /></main>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(<ConnectionProvider><App /></ConnectionProvider>)
