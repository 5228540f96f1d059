/**
 * HTTP/2 server cost: node:http2 against Meshwork's own codec (src/dataplane/http2/), each an echo-style
 * server in its own process answering 100 bytes, loaded by h2load in interleaved rounds. Prints requests/s
 * and CPU µs per request of the server process (utime + stime from /proc/<pid>/stat), medians over the
 * rounds, and the codec/node ratios.
 *
 *   h2load -c C -m M ──h2c──▶ node:http2 server      (round 1, 3, 5 …  alternating with)
 *   h2load -c C -m M ──h2c──▶ codec server           (round 1, 3, 5 …)
 *
 * Run: flock /tmp/meshwork-bench.lock node --import tsx bench/h2-codec.ts
 * Env: BENCH_ROUNDS (5), BENCH_REQUESTS (200000 per run), BENCH_CONNECTIONS (4), BENCH_STREAMS (10 per connection).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200_000)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4)
const STREAMS = Number(process.env.BENCH_STREAMS ?? 10)
const ROOT = resolve(import.meta.dirname, '..')
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100)

function build (): string {
  const out = join(ROOT, 'test-artifacts', 'h2-codec')
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [join(ROOT, 'bench/h2-codec-server.ts'), '--bundle', '--platform=node', '--format=esm',
    '--packages=external', '--target=node20', `--outdir=${out}`, '--log-level=warning'], { stdio: 'inherit' })
  return join(out, 'h2-codec-server.js')
}

function cpuTicks (pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime, stime (fields 14, 15)
}

async function start (script: string, mode: string): Promise<{ child: ChildProcess, port: number }> {
  const child = spawn(process.execPath, [script, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', d => resolve(Number(String(d).trim())))
    child.once('exit', code => reject(new Error(`${mode} server exited ${code}`)))
  })
  return { child, port }
}

function h2load (port: number, n: number): number {
  const out = execFileSync('h2load', ['-n', String(n), '-c', String(CONNECTIONS), '-m', String(STREAMS), `http://127.0.0.1:${port}/`], { encoding: 'utf8' })
  const ok = /(\d+) succeeded, (\d+) failed/.exec(out)
  if (ok === null || Number(ok[2]) > 0) throw new Error(`h2load failed:\n${out}`)
  return Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)![1])
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1] }

const script = build()
const servers = { node: await start(script, 'node'), codec: await start(script, 'codec') }
const results: Record<string, { rps: number[], cpu: number[] }> = { node: { rps: [], cpu: [] }, codec: { rps: [], cpu: [] } }
try {
  for (const s of Object.values(servers)) h2load(s.port, 20_000) // warm-up (JIT)
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of (r % 2 === 0 ? ['node', 'codec'] : ['codec', 'node']) as ('node' | 'codec')[]) {
      const { child, port } = servers[name]
      const before = cpuTicks(child.pid!)
      const rps = h2load(port, REQUESTS)
      const cpuUs = (cpuTicks(child.pid!) - before) * TICK_US / REQUESTS
      results[name].rps.push(rps)
      results[name].cpu.push(cpuUs)
      console.log(`round ${r + 1} ${name.padEnd(5)} ${rps.toFixed(0).padStart(7)} req/s  ${cpuUs.toFixed(2).padStart(6)} µs CPU/req`)
    }
  }
} finally {
  for (const s of Object.values(servers)) s.child.kill()
}
const n = { rps: median(results.node.rps), cpu: median(results.node.cpu) }
const c = { rps: median(results.codec.rps), cpu: median(results.codec.cpu) }
console.log(`\nh2load -c ${CONNECTIONS} -m ${STREAMS}, ${REQUESTS} requests per run, ${ROUNDS} rounds, medians:`)
console.log(`  node:http2  ${n.rps.toFixed(0).padStart(7)} req/s  ${n.cpu.toFixed(2).padStart(6)} µs CPU/req`)
console.log(`  codec       ${c.rps.toFixed(0).padStart(7)} req/s  ${c.cpu.toFixed(2).padStart(6)} µs CPU/req`)
console.log(`  codec/node  ${(c.rps / n.rps).toFixed(2)}× req/s, ${(c.cpu / n.cpu).toFixed(2)}× CPU per request`)
