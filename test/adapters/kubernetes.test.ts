import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { injectManifests } from '../../src/adapters/kubernetes/inject-manifests.ts'
import { renderInstall } from '../../src/adapters/kubernetes/install.ts'
import { toYamlStream } from '../../src/adapters/kubernetes/manifest-io.ts'
import { PROXY_CONTAINER, type SidecarOptions, injectPodTemplate } from '../../src/adapters/kubernetes/sidecar.ts'
import { validateManifest } from '../../src/adapters/kubernetes/validate-manifest.ts'
import { handleAdmissionReview } from '../../src/adapters/kubernetes/webhook.ts'
import { type InjectorServer, startInjectorServer } from '../../src/adapters/kubernetes/webhook-server.ts'
import { createWebhookTls } from '../../src/adapters/kubernetes/webhook-tls.ts'
import { FIXTURES, assertGolden } from './golden.ts'

type Obj = Record<string, any>
const OPTS: SidecarOptions = { image: 'meshwork/meshwork:0.1.0', controlPlane: 'http://meshwork-control.meshwork.svc:15010' }
/** `--capture env`: HTTP_PROXY instead of the nftables init container (test/adapters/kubernetes-capture.test.ts) */
const OPTS_ENV: SidecarOptions = { ...OPTS, capture: 'env' }
/** Fixed PEM-shaped strings so the install golden file is stable; real TLS is tested below. */
const FAKE_TLS = { caPem: 'CA PEM\n', certPem: 'CERT PEM\n', keyPem: 'KEY PEM\n' }
const deployDocs = (): Obj[] => parseAllDocuments(readFileSync(join(FIXTURES, 'deploy.yaml'), 'utf8')).map(d => d.toJS())
const servers: InjectorServer[] = []
after(async () => { for (const s of servers) await s.close() })

test('install renders valid manifests for the control and management planes', () => {
  const objects = renderInstall({ namespace: 'meshwork', image: 'meshwork/meshwork:0.1.0' })
  const kinds = objects.map(o => `${o.kind}/${o.metadata.name}`)
  for (const k of ['Namespace/meshwork', 'ServiceAccount/meshwork-control', 'ClusterRole/meshwork-control', 'ClusterRoleBinding/meshwork-control', 'ConfigMap/meshwork-mesh', 'Deployment/meshwork-control', 'Service/meshwork-control', 'Deployment/meshwork-server', 'Service/meshwork-server']) {
    assert.ok(kinds.includes(k), k)
  }
  assert.ok(!kinds.some(k => k.startsWith('MutatingWebhookConfiguration')))
  for (const o of objects) assert.deepEqual(validateManifest(o), [], `${o.kind}/${o.metadata.name}`)
  const cm = objects.find(o => o.kind === 'ConfigMap')!
  assert.match(cm.data['mesh.yaml'], /kind: MeshConfig/)
})

test('install --webhook --ingress adds the injector, a MutatingWebhookConfiguration and the ingress gateway, all valid; golden file', () => {
  const objects = renderInstall({ namespace: 'mesh-system', image: 'meshwork/meshwork:0.1.0', webhook: true, webhookTls: FAKE_TLS, ingressGateway: 'ingress' })
  for (const o of objects) assert.deepEqual(validateManifest(o), [], `${o.kind}/${o.metadata.name}`)
  const mwc = objects.find(o => o.kind === 'MutatingWebhookConfiguration')!
  const hook = mwc.webhooks[0]
  assert.deepEqual(hook.clientConfig.service, { name: 'meshwork-injector', namespace: 'mesh-system', path: '/inject', port: 443 })
  assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString(), FAKE_TLS.caPem)
  assert.equal(hook.failurePolicy, 'Ignore')
  const gw = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'meshwork-ingress')!
  assert.deepEqual(gw.spec.template.spec.containers[0].args.slice(0, 7), ['proxy', '--control-plane', 'http://meshwork-control.mesh-system.svc:15010', '--id', '$(POD_NAME)', '--role', 'ingress'])
  assertGolden('install-webhook.yaml', toYamlStream(objects))
})

test('inject --capture env adds the sidecar, outbound HTTP_PROXY and annotations; the result is a valid Deployment', () => {
  const { objects, report } = injectManifests(deployDocs(), OPTS_ENV)
  assert.deepEqual(report.map(r => `${r.kind}/${r.name}:${r.outcome}`), ['Deployment/reviews-v1:injected', 'Deployment/legacy:disabled', 'Service/reviews:not-a-workload', 'CronJob/nightly:injected'])
  const d = objects[0] as Obj
  const spec = d.spec.template.spec
  const proxy = spec.initContainers.find((c: Obj) => c.name === PROXY_CONTAINER)
  assert.equal(proxy.restartPolicy, 'Always', 'native sidecar')
  assert.deepEqual(proxy.readinessProbe.httpGet, { path: '/ready', port: 15000 })
  assert.ok(proxy.args.includes('--service') && proxy.args[proxy.args.indexOf('--service') + 1] === 'reviews')
  assert.equal(proxy.args[proxy.args.indexOf('--version') + 1], 'v1')
  assert.equal(proxy.args[proxy.args.indexOf('--app') + 1], '127.0.0.1:9080')
  const app = spec.containers[0]
  assert.deepEqual(app.env.find((e: Obj) => e.name === 'HTTP_PROXY'), { name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' })
  assert.deepEqual(app.env[0], { name: 'LOG_LEVEL', value: 'info' }, 'existing env kept first')
  assert.equal(d.spec.template.metadata.annotations['meshwork.dev/status'], 'injected')
  for (const o of objects) assert.deepEqual(validateManifest(o), [], (o as Obj).metadata.name)
  assert.deepEqual(objects[1], deployDocs()[1], 'opted-out Deployment unchanged')
  assert.deepEqual(objects[2], deployDocs()[2], 'Service unchanged')
  assertGolden('inject-deploy.yaml', toYamlStream(objects))
})

test('inject is idempotent: injecting twice changes nothing', () => {
  const once = injectManifests(deployDocs(), OPTS)
  const twice = injectManifests(once.objects, OPTS)
  assert.deepEqual(twice.objects, once.objects)
  assert.deepEqual(twice.report.map(r => r.outcome), ['already-injected', 'disabled', 'not-a-workload', 'already-injected'])
})

test('inject without native sidecars puts the proxy first among the containers', () => {
  const { template, outcome } = injectPodTemplate(deployDocs()[0].spec.template, { ...OPTS, nativeSidecar: false }, { name: 'reviews-v1' })
  assert.equal(outcome, 'injected')
  assert.equal(template.spec.containers[0].name, PROXY_CONTAINER)
  assert.deepEqual(template.spec.initContainers.map((c: Obj) => c.name), ['meshwork-init'], 'only the capture rules run first')
  const env = injectPodTemplate(deployDocs()[0].spec.template, { ...OPTS_ENV, nativeSidecar: false }, { name: 'reviews-v1' }).template
  assert.equal(env.spec.initContainers, undefined)
})

function applyJsonPatch (doc: Obj, ops: Obj[]): Obj {
  const out = structuredClone(doc)
  for (const op of ops) {
    assert.equal(op.op, 'add')
    const parts = (op.path as string).split('/').slice(1).map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    let cur = out
    for (const p of parts.slice(0, -1)) cur = cur[p]
    cur[parts.at(-1)!] = op.value
  }
  return out
}

function review (pod: Obj, uid = 'd9a2c4e0-1111-4c3a-9a5b-000000000001'): Obj {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'default', object: pod } }
}

const pod = (): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reviews-v1-abc', namespace: 'default', labels: { app: 'reviews', version: 'v1' } }, spec: { containers: [{ name: 'reviews', image: 'example/reviews:1.0', ports: [{ containerPort: 9080 }] }] } })

test('webhook: the JSONPatch turns the pod into the injected pod, which passes the Pod schema', () => {
  const res = handleAdmissionReview(review(pod()), OPTS)
  assert.equal(res.response.uid, 'd9a2c4e0-1111-4c3a-9a5b-000000000001')
  assert.equal(res.response.allowed, true)
  assert.equal(res.response.patchType, 'JSONPatch')
  const patched = applyJsonPatch(pod(), JSON.parse(Buffer.from(res.response.patch!, 'base64').toString()))
  const expected = injectPodTemplate({ metadata: pod().metadata, spec: pod().spec }, OPTS, { name: 'reviews-v1-abc' }).template
  assert.deepEqual(patched.spec, expected.spec)
  assert.deepEqual(patched.metadata, expected.metadata)
  assert.deepEqual(validateManifest(patched), [])
})

test('webhook: already injected or opted-out pods are allowed without a patch', () => {
  const injected = applyJsonPatch(pod(), JSON.parse(Buffer.from(handleAdmissionReview(review(pod()), OPTS).response.patch!, 'base64').toString()))
  assert.equal(handleAdmissionReview(review(injected), OPTS).response.patch, undefined)
  const off = pod()
  off.metadata.annotations = { 'meshwork.dev/inject': 'disabled' }
  const r = handleAdmissionReview(review(off), OPTS)
  assert.equal(r.response.allowed, true)
  assert.equal(r.response.patch, undefined)
})

test('webhook: a body that is not an AdmissionReview is refused with a stable code', () => {
  assert.throws(() => handleAdmissionReview({ kind: 'Pod' }, OPTS), (err: Error & { code?: string }) => err.code === 'MESH_ERR_ADMISSION_REVIEW_INVALID')
})

test('webhook server over HTTPS with the install-time certificate: POST /inject answers a patched review', async () => {
  const tls = await createWebhookTls(['localhost'])
  const cert = new X509Certificate(tls.certPem)
  assert.ok(cert.checkHost('localhost'))
  assert.ok(cert.verify(new X509Certificate(tls.caPem).publicKey))
  const srv = await startInjectorServer({ ...OPTS, host: '127.0.0.1', port: 0, tls: { certPem: tls.certPem, keyPem: tls.keyPem } })
  servers.push(srv)
  const port = Number(new URL(srv.url).port)
  const post = (body: string) => new Promise<{ status: number, json: Obj }>((resolve, reject) => {
    // servername "localhost" + ca: the handshake verifies the chain and the DNS SAN, as the API server would.
    const req = httpsRequest({ host: '127.0.0.1', port, servername: 'localhost', path: '/inject', method: 'POST', ca: tls.caPem, headers: { 'content-type': 'application/json' } }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }))
    })
    req.on('error', reject)
    req.end(body)
  })
  const ok = await post(JSON.stringify(review(pod(), 'uid-2')))
  assert.equal(ok.status, 200)
  assert.equal(ok.json.response.uid, 'uid-2')
  assert.equal(ok.json.response.patchType, 'JSONPatch')
  const bad = await post('{not json')
  assert.equal(bad.status, 400)
  assert.equal(bad.json.code, 'MESH_ERR_ADMISSION_REVIEW_INVALID')
  const notReview = await post('{"kind":"Pod"}')
  assert.equal(notReview.status, 400)
  assert.equal(notReview.json.code, 'MESH_ERR_ADMISSION_REVIEW_INVALID')
})

test('the benchmark Job is a valid Job that is never injected and posts to the management plane', async () => {
  const { renderBenchmarkJob } = await import('../../src/adapters/kubernetes/bench-job.ts')
  const job = renderBenchmarkJob({ name: 'bench-productpage', namespace: 'bookinfo', image: 'meshwork/meshwork:0.1.0', target: 'http://productpage.bookinfo.svc:9080/productpage', benchArgs: ['-c', '16', '-r', '1000', '-d', '30s'], labels: { mesh: 'meshwork' } })
  assert.deepEqual(validateManifest(job), [])
  assert.equal(injectManifests([job], OPTS).report[0].outcome, 'disabled')
  const script = job.spec.template.spec.containers[0].command[2] as string
  assert.match(script, /meshwork bench run http:\/\/productpage\.bookinfo\.svc:9080\/productpage -c 16 -r 1000 -d 30s --label cluster=kubernetes --label mesh=meshwork --json --no-store/)
  assert.match(script, /http:\/\/meshwork-server\.meshwork\.svc:8088\/api\/v1\/benchmarks\/import/)
})

test('webhook server over plain HTTP: /ready answers, unknown paths are 404, GET /inject is 405', async () => {
  const srv = await startInjectorServer({ ...OPTS, host: '127.0.0.1', port: 0 })
  servers.push(srv)
  assert.equal((await fetch(`${srv.url}/ready`)).status, 200)
  const missing = await fetch(`${srv.url}/nope`)
  assert.equal(missing.status, 404)
  assert.equal((await missing.json()).code, 'MESH_ERR_API_NOT_FOUND')
  assert.equal((await fetch(`${srv.url}/inject`)).status, 405)
  const res = await fetch(`${srv.url}/inject`, { method: 'POST', body: JSON.stringify(review(pod(), 'uid-3')) })
  assert.equal((await res.json()).response.uid, 'uid-3')
})

test('inject --capture env: meshwork.dev/no-proxy extends NO_PROXY for hosts the app reaches directly', () => {
  const t = deployDocs()[0].spec.template
  t.metadata.annotations = { 'meshwork.dev/no-proxy': 'kubernetes.default.svc, .example.com' }
  const { template } = injectPodTemplate(t, OPTS_ENV, { name: 'reviews-v1' })
  const env = template.spec.containers[0].env as Obj[]
  assert.equal(env.find(e => e.name === 'NO_PROXY')?.value, '127.0.0.1,localhost,kubernetes.default.svc,.example.com')
})

test('webhook: any Pod CREATE review gets an allowed response with its uid, whatever the pod looks like', async () => {
  const fc = (await import('fast-check')).default
  fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({ metadata: fc.jsonValue(), spec: fc.oneof(fc.jsonValue(), fc.record({ containers: fc.array(fc.jsonValue(), { maxLength: 3 }) })) }, { requiredKeys: [] })), p => {
    const res = handleAdmissionReview(review(p as Obj, 'uid-p'), OPTS)
    assert.equal(res.response.uid, 'uid-p')
    assert.equal(res.response.allowed, true)
  }), { numRuns: 300, seed: 7 })
})
