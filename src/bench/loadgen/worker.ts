/**
 * Worker-thread entry: runs one LoadEngine and talks to run.ts by messages.
 *   in:  { type: 'start', at: epochMs }   { type: 'stop' }
 *   out: { type: 'ready' } { type: 'progress', ...EngineProgress } { type: 'unreachable', code }
 *        { type: 'done', report: EngineReport }
 */
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { type EngineJob, LoadEngine } from './engine.ts'

const port = parentPort!
const engine = new LoadEngine(workerData as EngineJob, code => port.postMessage({ type: 'unreachable', code }))
let progressTimer: NodeJS.Timeout | null = null

port.on('message', (msg: { type: string, at?: number }) => {
  if (msg.type === 'start') {
    const localStart = (msg.at ?? 0) - performance.timeOrigin
    progressTimer = setInterval(() => port.postMessage({ type: 'progress', ...engine.progress() }), 200)
    engine.run(Math.max(performance.now(), localStart)).then(report => {
      if (progressTimer !== null) clearInterval(progressTimer)
      port.postMessage({ type: 'progress', ...engine.progress() })
      port.postMessage({ type: 'done', report })
      port.close()
    }, (err: Error) => {
      port.postMessage({ type: 'failed', message: err.message })
      port.close()
    })
  } else if (msg.type === 'stop') {
    engine.stop()
  }
})
port.postMessage({ type: 'ready' })
