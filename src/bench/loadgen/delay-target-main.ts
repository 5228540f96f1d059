/**
 * Child-process entry of the known-latency target: `node [--import tsx] delay-target-main.ts <delayMs>`,
 * started with an IPC channel (`child_process.fork`). Sends `{ port }` once listening; answers
 * `{ type: 'hold' }` with `{ hold: LatencySummary }` and `{ type: 'reset' }` with `{ reset: true }`.
 */
import { startDelayTarget } from './delay-target.ts'

const target = await startDelayTarget({ delayMs: Number(process.argv[2] ?? 2) })
process.on('message', (m: { type: string }) => {
  if (m.type === 'hold') process.send!({ hold: target.hold() })
  else if (m.type === 'reset') { target.reset(); process.send!({ reset: true }) }
})
process.on('disconnect', () => { target.close().then(() => process.exit(0), () => process.exit(1)) })
process.send!({ port: target.port })
