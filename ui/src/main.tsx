import { lazy, Suspense, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { ConnectionProvider, useConnection } from './connection.tsx'
import { TopologyPage } from './pages/Topology.tsx'
import { ThemeToggle } from './theme.tsx'

// The first page (the topology) is in the first download; the others load when opened (esbuild code splitting), so
// the first load stays small (test/ui/bundle-size.test.ts).
const named = <K extends string>(load: () => Promise<Record<K, () => React.JSX.Element>>, name: K) => lazy(async () => ({ default: (await load())[name] }))
const PAGES = {
  topology: { title: 'Topology', Page: TopologyPage },
  metrics: { title: 'Metrics', Page: named(() => import('./metrics/MetricsPage.tsx'), 'MetricsPage') },
  config: { title: 'Config', Page: named(() => import('./pages/Config.tsx'), 'ConfigPage') },
  learn: { title: 'Learn', Page: named(() => import('./pages/Learn.tsx'), 'LearnPage') },
  traces: { title: 'Traces', Page: named(() => import('./pages/Traces.tsx'), 'TracesPage') },
  tap: { title: 'Tap', Page: named(() => import('./pages/Tap.tsx'), 'TapPage') },
  benchmarks: { title: 'Benchmarks', Page: named(() => import('./pages/Benchmarks.tsx'), 'BenchmarksPage') }
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
  useEffect(() => { document.title = `${PAGES[page].title} · Meshwork` }, [page])
  const conn = useConnection()
  const { Page } = PAGES[page]
  return (
    <div className='app'>
      {/* a button, not a #main link: the hash is the page router's */}
      <button type='button' className='skip-link' data-testid='skip-link' onClick={() => document.getElementById('main')?.focus()}>Skip to content</button>
      <header className='top'>
        <h1>Meshwork</h1>
        <nav aria-label='Pages'>{(Object.keys(PAGES) as PageId[]).map(id => <a key={id} href={`#/${id}`} className={id === page ? 'active' : ''} aria-current={id === page ? 'page' : undefined}>{PAGES[id].title}</a>)}</nav>
        <div className='conn' data-testid='connection'>
          <span className={`dot ${conn.server === 'live' ? 'up' : 'down'}`} data-testid='server-state' data-state={conn.server} />
          management server {conn.server === 'live' ? 'live' : conn.server === 'connecting' ? 'connecting…' : 'disconnected — what you see may be stale'}
          <span className={`dot ${conn.controlPlane === 'connected' ? 'up' : conn.controlPlane === 'unknown' ? 'unknown' : 'down'}`} data-testid='cp-state' data-state={conn.controlPlane === 'connected' ? 'connected' : conn.controlPlane === 'unreachable' ? 'disconnected' : 'unknown'} />
          control plane {conn.controlPlane === 'connected' ? 'connected' : conn.controlPlane === 'unreachable' ? 'unreachable — proxies keep the last config' : 'unknown'}
        </div>
        <ThemeToggle />
      </header>
      <main id='main' tabIndex={-1}>
        <Suspense fallback={<div className='page'><p className='muted'>Loading…</p></div>}><Page /></Suspense>
      </main>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(<ConnectionProvider><App /></ConnectionProvider>)
