import { useMemo, useState } from 'react'
import {
  type Fault, faultOf, type MtlsMode, mtlsOf, type RouteChanges, resourcesOf, routeSettingsOf, serviceRouteOf, servicesOf, splitOf,
  writeFault, writeMtls, writeRouteSettings, writeSplit
} from './intents.ts'

/**
 * Forms for common intents. Each field shows the value in the editor (the running config once loaded)
 * and remembers only what the user changed; "Write" puts exactly those changes into the YAML, through
 * intents.ts, and forgets them (issue 19: the forms used to start from defaults and overwrite the
 * route's other values).
 */
export function Forms ({ text, onChange }: { text: string, onChange: (text: string) => void }) {
  const resources = useMemo(() => resourcesOf(text), [text])
  const services = servicesOf(resources)
  const names = [...services.keys()]
  const [picked, setPicked] = useState<string | null>(null)
  const service = picked !== null && names.includes(picked) ? picked : names.includes('reviews') ? 'reviews' : names[0] ?? ''
  if (service === '') return <p className='muted'>No Workload in the config: nothing for the forms to act on.</p>
  const route = serviceRouteOf(resources, service)
  return (
    <div className='forms' data-testid='forms'>
      <label>Service <select value={service} onChange={e => setPicked(e.target.value)} data-testid='form-service'>{names.map(n => <option key={n}>{n}</option>)}</select></label>
      <p className='muted form-target' data-testid='form-route'>{route !== undefined ? `route: HTTPRoute/${route.metadata.name}` : `no route attached to ${service} yet: writing creates HTTPRoute/${service}`}</p>
      <SplitForm key={`split-${service}`} service={service} versions={services.get(service) ?? []} route={route} onWrite={w => onChange(writeSplit(text, service, w))} />
      <TimeoutForm key={`timeouts-${service}`} route={route} onWrite={c => onChange(writeRouteSettings(text, service, c))} />
      <FaultForm key={`fault-${service}`} current={faultOf(resources, service)} onWrite={c => onChange(writeFault(text, service, c))} />
      <fieldset>
        <legend>Mutual TLS (whole mesh)</legend>
        {(['STRICT', 'PERMISSIVE', 'DISABLE'] as MtlsMode[]).map(m => (
          <label key={m}><input type='radio' name='mtls' checked={mtlsOf(resources) === m} onChange={() => onChange(writeMtls(text, m))} data-testid={`mtls-${m}`} /> {m}</label>
        ))}
      </fieldset>
    </div>
  )
}

const touchedLabel = (n: number): string => (n === 0 ? '' : ` (${n} change${n === 1 ? '' : 's'})`)

function SplitForm ({ service, versions, route, onWrite }: { service: string, versions: string[], route: any, onWrite: (weights: Record<string, number>) => void }) {
  const current = splitOf(route, service, versions)
  const [edits, setEdits] = useState<Record<string, number>>({})
  const w = (v: string): number => edits[v] ?? current.weights[v] ?? 0
  const touched = Object.keys(edits).length
  return (
    <fieldset>
      <legend>Shift traffic between versions</legend>
      <p className='muted' data-testid='split-now'>{current.whole ? `now: every version of ${service}, by instance` : `now: ${versions.map(v => `${v} ${current.weights[v]}`).join(' · ')}`}</p>
      {versions.map(v => (
        <label key={v} className={`slider${edits[v] !== undefined ? ' touched' : ''}`}>{v}
          <input type='range' min={0} max={100} value={w(v)} onChange={e => setEdits({ ...edits, [v]: Number(e.target.value) })} data-testid={`weight-${v}`} />
          <output>{w(v)}</output>
        </label>
      ))}
      <button type='button' disabled={touched === 0} onClick={() => { onWrite(Object.fromEntries(versions.map(v => [v, w(v)]))); setEdits({}) }} data-testid='apply-split'>Write route{touchedLabel(touched)}</button>
    </fieldset>
  )
}

function TimeoutForm ({ route, onWrite }: { route: any, onWrite: (changes: RouteChanges) => void }) {
  const current = routeSettingsOf(route)
  const [edits, setEdits] = useState<RouteChanges>({})
  const touched = Object.keys(edits).length
  const text = (field: 'request' | 'backendRequest', label: string, testId: string) => (
    <label className={edits[field] !== undefined ? 'touched' : ''}>{label}
      <input value={edits[field] ?? current[field] ?? ''} placeholder={current[field] === null ? 'differs by rule' : 'none'} onChange={e => setEdits({ ...edits, [field]: e.target.value.trim() })} size={7} data-testid={testId} />
    </label>
  )
  return (
    <fieldset>
      <legend>Timeout and retries</legend>
      {text('request', 'request timeout', 'timeout-request')}
      {text('backendRequest', 'per-try timeout', 'timeout-per-try')}
      <label className={edits.attempts !== undefined ? 'touched' : ''}>retry attempts
        <input type='number' min={0} max={10} value={edits.attempts ?? current.attempts ?? ''} placeholder={current.attempts === null ? 'differs' : ''} onChange={e => setEdits({ ...edits, attempts: Number(e.target.value) })} data-testid='retry-attempts' />
      </label>
      <button type='button' disabled={touched === 0} onClick={() => { onWrite(edits); setEdits({}) }} data-testid='apply-timeouts'>Write route{touchedLabel(touched)}</button>
    </fieldset>
  )
}

function FaultForm ({ current, onWrite }: { current: Fault, onWrite: (changes: Partial<Fault>) => void }) {
  const [edits, setEdits] = useState<Partial<Fault>>({})
  const v = <K extends keyof Fault>(k: K): Fault[K] => (edits[k] ?? current[k]) as Fault[K]
  const set = <K extends keyof Fault>(k: K, value: Fault[K]): void => setEdits({ ...edits, [k]: value })
  const cls = (k: keyof Fault): string => (edits[k] !== undefined ? 'touched' : '')
  const touched = Object.keys(edits).length
  return (
    <fieldset>
      <legend>Inject a fault</legend>
      <label className={cls('abortPercent')}>abort % <input type='number' min={0} max={100} value={v('abortPercent')} onChange={e => set('abortPercent', Number(e.target.value))} data-testid='fault-abort' /></label>
      <label className={cls('status')}>status <input type='number' min={200} max={599} value={v('status')} onChange={e => set('status', Number(e.target.value))} data-testid='fault-status' /></label>
      <label className={cls('delayPercent')}>delay % <input type='number' min={0} max={100} value={v('delayPercent')} onChange={e => set('delayPercent', Number(e.target.value))} data-testid='fault-delay-percent' /></label>
      <label className={cls('delay')}>delay <input value={v('delay')} onChange={e => set('delay', e.target.value.trim())} size={6} data-testid='fault-delay' /></label>
      <button type='button' disabled={touched === 0} onClick={() => { onWrite(edits); setEdits({}) }} data-testid='apply-fault'>Write fault{touchedLabel(touched)} (0% removes it)</button>
    </fieldset>
  )
}
