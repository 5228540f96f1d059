import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startTrivialServer, type TrivialServer } from '../../src/bench/app/trivial-server.ts'
import { OPTIONS, usage } from '../../src/cli/commands/bench.ts'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname
const dataDir = mkdtempSync(join(tmpdir(), 'meshwork-bench-cli-'))
let server: TrivialServer

before(async () => { server = await startTrivialServer({ kind: 'http' }) })
after(async () => { await server.close(); rmSync(dataDir, { recursive: true, force: true }) })

function cli (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN, 'bench', ...args], { env: { ...process.env, MESHWORK_DATA_DIR: dataDir } })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', d => { stdout += d })
    p.stderr.on('data', d => { stderr += d })
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`meshwork bench ${args.join(' ')} did not finish: ${stderr}`)) }, 90_000)
    p.on('exit', code => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }) })
  })
}

test('--help lists every flag and subcommand the code accepts', async () => {
  for (const [name, o] of Object.entries(OPTIONS)) {
    assert.ok(usage.includes(`--${name}`), `--${name} missing from usage`)
    if ('short' in o) assert.ok(usage.includes(`-${o.short}, --${name}`), `-${o.short} missing from usage`)
  }
  const r = await cli(['--help'])
  assert.equal(r.code, 0)
  for (const sub of ['run <url>', 'suite', 'sweep', 'search', 'ceiling', 'scenarios', 'list', 'show <id>', 'compare <id>', 'export <id>', 'import <file>']) assert.ok(r.stdout.includes(`  ${sub}`), sub)
})

test('run --json measures, stores; list, show, export (SMP and fortio), import, compare read the store', async () => {
  const run = await cli(['run', `http://127.0.0.1:${server.port}/`, '-c', '2', '-t', '1', '-d', '1s', '--warmup', '200ms', '--json', '--label', 'case=cli'])
  assert.equal(run.code, 0, run.stderr)
  const smp = JSON.parse(run.stdout)
  assert.equal(smp.config.clients[0].connections, 2)
  assert.ok(smp.actual_qps > 0)
  assert.ok(smp.latencies.p99 >= smp.latencies.p50)
  assert.equal(smp.config.labels.case, 'cli')
  assert.equal(typeof smp.env.node.cpu_model, 'string')

  const imp = await cli(['import', join(FIXTURES, 'fortio-istio-1000qps.json'), '--mesh', 'istio', '--json'])
  assert.equal(imp.code, 0, imp.stderr)
  const imported = JSON.parse(imp.stdout)
  assert.equal(imported.mesh_config.type, 'istio')

  const list = await cli(['list', '--json'])
  const ids = JSON.parse(list.stdout).map((r: { id: string }) => r.id)
  assert.ok(ids.includes(smp.id) && ids.includes(imported.id))

  const show = await cli(['show', smp.id.slice(0, 8)])
  assert.equal(show.code, 0)
  assert.match(show.stdout, /p99/)

  const exp = await cli(['export', smp.id, '--format', 'fortio'])
  const f = JSON.parse(exp.stdout)
  assert.equal(f.RequestedQPS, 'max')
  assert.equal(f.DurationHistogram.Count, smp.meshwork.requests)

  const cmp = await cli(['compare', smp.id, imported.id, '--json'])
  assert.equal(JSON.parse(cmp.stdout).length, 2)

  const missing = await cli(['show', 'deadbeef'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /MESH_ERR_BENCH_RESULT_NOT_FOUND/)
})

test('bad input ends with a code on stderr, exit 1, and the partial result on stdout', async () => {
  const bad = await cli(['run', `http://127.0.0.1:${server.port}/`, '--rate=-3'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /MESH_ERR_BENCH_OPTION_INVALID/)

  const unreachable = await cli(['run', 'http://127.0.0.1:1/', '-d', '20s', '--json'])
  assert.equal(unreachable.code, 1)
  assert.match(unreachable.stderr, /MESH_ERR_BENCH_TARGET_UNREACHABLE/)
  const partial = JSON.parse(unreachable.stdout)
  assert.equal(partial.error.code, 'MESH_ERR_BENCH_TARGET_UNREACHABLE')
  assert.equal(partial.partial.meshwork.requests, 0)

  const notFortio = await cli(['import', join(FIXTURES, 'fortio-invalid.json')])
  assert.equal(notFortio.code, 1)
  assert.match(notFortio.stderr, /MESH_ERR_BENCH_IMPORT_INVALID/)
  assert.ok(readFileSync(join(FIXTURES, 'fortio-invalid.json'), 'utf8').length > 0)
})
