import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { validateManifest } from '../../src/adapters/kubernetes/validate-manifest.ts'
import { validateResource } from '../../src/config/index.ts'
import { FIXTURES } from './golden.ts'

const MAIN = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../src/cli/main.ts')

/** Run the CLI as users do; the child is always waited for (it exits by itself; killed after 60 s). */
function meshwork (args: string[], stdin?: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    child.stdin.end(stdin ?? '')
  })
}

const docs = (text: string): any[] => parseAllDocuments(text).map(d => d.toJS()).filter(Boolean)

test('meshwork translate --to linkerd prints valid YAML and the unsupported fields on stderr', async () => {
  const r = await meshwork(['translate', '--to', 'linkerd', '-f', join(FIXTURES, 'mesh.yaml')])
  assert.equal(r.code, 0, r.stderr)
  const out = docs(r.stdout)
  assert.ok(out.length > 5)
  for (const o of out) assert.deepEqual(validateManifest(o), [])
  assert.match(r.stderr, /^unsupported: linkerd FaultInjection\/default\/ratings-delay spec: /m)
  assert.doesNotMatch(r.stderr, /internal:/)
})

test('meshwork translate --strict exits 3 when something is unsupported; a bad --to exits 2', async () => {
  assert.equal((await meshwork(['translate', '--to', 'consul', '--strict', '-f', join(FIXTURES, 'mesh.yaml')])).code, 3)
  assert.equal((await meshwork(['translate', '--to', 'kuma', '-f', join(FIXTURES, 'mesh.yaml')])).code, 2)
})

test('meshwork translate --from istio reads stdin and prints valid Meshwork config', async () => {
  const r = await meshwork(['translate', '--from', 'istio', '-f', '-', '--warnings', 'json'], `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: ratings, subset: v1 } }], timeout: 0.5s, retries: { attempts: 0 } }]
`)
  assert.equal(r.code, 0, r.stderr)
  const [route] = docs(r.stdout)
  assert.equal(validateResource(route).ok, true)
  assert.deepEqual(route.spec.rules[0].timeouts, { request: '500ms' })
  assert.deepEqual(JSON.parse(r.stderr), [])
})

test('meshwork install --kubernetes --webhook renders manifests that pass the Kubernetes schemas', async () => {
  const r = await meshwork(['install', '--kubernetes', '--webhook', '--namespace', 'mesh-system', '--image', 'registry.local/meshwork:dev'])
  assert.equal(r.code, 0, r.stderr)
  const out = docs(r.stdout)
  for (const o of out) assert.deepEqual(validateManifest(o), [], `${o.kind}/${o.metadata.name}`)
  const secret = out.find(o => o.kind === 'Secret')
  assert.match(Buffer.from(secret.data['tls.crt'], 'base64').toString(), /BEGIN CERTIFICATE/)
  assert.equal((await meshwork(['install'])).code, 2, 'install without --kubernetes is a usage error')
})

test('meshwork inject -f - twice through a pipe: the second pass changes nothing', async () => {
  const { readFileSync } = await import('node:fs')
  const first = await meshwork(['inject', '-f', '-'], readFileSync(join(FIXTURES, 'deploy.yaml'), 'utf8'))
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stderr, /Deployment\/reviews-v1: injected/)
  const second = await meshwork(['inject', '-f', '-'], first.stdout)
  assert.equal(second.code, 0)
  assert.equal(second.stdout, first.stdout)
  assert.match(second.stderr, /Deployment\/reviews-v1: already-injected/)
})

test('meshwork apply --kubernetes --help prints the Kubernetes variant\'s options; apply --help names --kubernetes', async () => {
  const k = await meshwork(['apply', '--kubernetes', '--help'])
  assert.equal(k.code, 0, k.stderr)
  assert.match(k.stdout, /^Usage: meshwork apply --kubernetes/)
  assert.match(k.stdout, /--kubeconfig <file>/)
  const plain = await meshwork(['apply', '--help'])
  assert.equal(plain.code, 0, plain.stderr)
  assert.match(plain.stdout, /^Usage: meshwork apply -f/)
  assert.match(plain.stdout, /--kubernetes {2,}server-side apply/)
})
