// Micro-benchmark of the resilience library's per-request functions (src/dataplane/resilience/).
// Run: node --import tsx bench/micro/resilience.bench.ts   (short: well under 10 s of CPU in all)
// Prints ns/op per case (median of 5 rounds after a warm-up). Numbers are for this machine only.
import { clearFastTimeout, FastTimer, fastTimeout } from '../../src/dataplane/resilience/clock.ts'
import { formatTimeoutHeader, parseTimeoutHeader } from '../../src/dataplane/resilience/deadline.ts'
import { EndpointSet } from '../../src/dataplane/resilience/endpoint-state.ts'
import { compileFault } from '../../src/dataplane/resilience/fault.ts'
import { LeastRequestBalancer } from '../../src/dataplane/resilience/least-request.ts'
import { OutlierDetector } from '../../src/dataplane/resilience/outlier-detector.ts'
import { PeakEwmaBalancer } from '../../src/dataplane/resilience/peak-ewma.ts'
import { TokenBucket } from '../../src/dataplane/resilience/rate-limiter.ts'
import { RetryBudget } from '../../src/dataplane/resilience/retry-budget.ts'
import { RoundRobinBalancer } from '../../src/dataplane/resilience/round-robin.ts'

const set = new EndpointSet(Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, address: '127.0.0.1', port: 10000 + i, tls: false, protocol: 'http1' as const, healthy: true })))
set.states[3].ejectedUntil = Number.MAX_SAFE_INTEGER // one ejected endpoint, as in a degraded set
const states = set.states
const od = new OutlierDetector({ consecutive5xx: 5, consecutiveConnectFailures: 2, intervalMs: 5000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 50 })
const budget = new RetryBudget()
const bucket = new TokenBucket(1e12, 1e12)
const fault = compileFault({ delay: { fixedDelay: '5s', percentage: 10 }, abort: { httpStatus: 503, percentage: 1 } })
const noop = (): void => {}
let sink = 0

function pickAndEnd (lb: { pick: typeof RoundRobinBalancer.prototype.pick }) {
  return (i: number): void => {
    const ep = lb.pick(states, i, null)!
    ep.onStart()
    ep.end(200, false, 1 + (i & 7), i)
    od.observe(ep, states, i)
  }
}

const cases: [string, (i: number) => void][] = [
  ['RoundRobin pick + end + outlier observe (10 eps)', pickAndEnd(new RoundRobinBalancer())],
  ['LeastRequest P2C pick + end + observe (10 eps)', pickAndEnd(new LeastRequestBalancer())],
  ['PeakEWMA P2C pick + end + observe (10 eps)', pickAndEnd(new PeakEwmaBalancer())],
  ['RetryBudget recordRequest + tryWithdraw', i => { budget.recordRequest(i / 1000); if (budget.tryWithdraw(i / 1000)) sink++ }],
  ['TokenBucket tryTake', i => { if (bucket.tryTake(i)) sink++ }],
  ['Fault decide', () => { sink += fault.decide().delayMs }],
  ['parseTimeoutHeader + formatTimeoutHeader', i => { sink += parseTimeoutHeader(formatTimeoutHeader(1000 + (i & 1023)))! }],
  ['FastTimer arm + disarm (reused)', (() => { const t = new FastTimer(noop, null); return () => { t.arm(1000); t.disarm() } })()],
  ['fastTimeout + clearFastTimeout (new each)', () => { clearFastTimeout(fastTimeout(noop, 1000)) }],
  ['setTimeout + clearTimeout (baseline)', () => { clearTimeout(setTimeout(noop, 1000)) }]
]

function run (fn: (i: number) => void, n: number): number {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) fn(i)
  return (performance.now() - t0) * 1e6 / n
}

const N = 200_000
for (const [name, fn] of cases) {
  run(fn, N) // warm-up: JIT
  const rounds: number[] = []
  for (let k = 0; k < 5; k++) rounds.push(run(fn, N))
  rounds.sort((a, b) => a - b)
  console.log(`${name.padEnd(50)} ${rounds[2].toFixed(0).padStart(6)} ns/op  (min ${rounds[0].toFixed(0)}, max ${rounds[4].toFixed(0)})`)
}
if (sink === -1) console.log(sink)
