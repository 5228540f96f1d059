import { usePoll } from '../api.ts'

interface Translation { target: string, yaml: string, unsupported: Array<{ resource: string, path: string, reason: string }> }

/** The running config as Istio, Linkerd and Consul would write it, with what each cannot express. */
export function LearnPage () {
  const { data, error } = usePoll<{ translations: Translation[], meshwork: string }>('/translate', 10_000)
  if (data === null) return <div className='page'>{error !== null ? <p className='error'>{error}</p> : <p>Translating…</p>}</div>
  return (
    <div className='page learn'>
      <p className='muted'>The same intent as the running Meshwork config, written for each mesh. Items a mesh cannot express are listed under it — nothing is dropped silently.</p>
      <div className='columns'>
        <div className='column' data-testid='learn-meshwork'><h3>Meshwork</h3><pre>{data.meshwork}</pre></div>
        {data.translations.map(t => (
          <div key={t.target} className='column' data-testid={`learn-${t.target}`}>
            <h3>{t.target}</h3>
            {t.unsupported.length > 0 && (
              <ul className='unsupported'>
                {t.unsupported.map((u, i) => <li key={i}><b>cannot express</b> {u.resource} <code>{u.path}</code>: {u.reason}</li>)}
              </ul>
            )}
            <pre>{t.yaml}</pre>
          </div>
        ))}
      </div>
    </div>
  )
}
