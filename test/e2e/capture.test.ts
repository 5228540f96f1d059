// Issue 13, transparent capture: Bookinfo with `--network pods` (root only; CI runs as root). Unmodified
// clients — curl and Python's urllib — inside a pod, with no HTTP_PROXY, go through the pod's sidecar: mTLS to
// the peer sidecar, metrics, route rules; unknown services and non-HTTP get clear answers, never a hang; the
// host still reaches the ingress on loopback and Prometheus scrapes every pod; nothing is left after stop.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type LocalMesh, startLocalMesh } from '../../src/runtime/local-mesh.ts'
import { podNetworkUnsupportedReason } from '../../src/runtime/netns/capability.ts'
import type { PodNetwork } from '../../src/runtime/netns/pod-network.ts'
import { type PrometheusServer, startPrometheus } from '../../src/runtime/prometheus.ts'
import { closeClients, get, productThroughIngress, sumMetric, waitUntil } from './http-client.ts'
import { hostRuleset, inPod, processIdentity, runLeftovers } from './pod-helpers.ts'

const runFile = promisify(execFile)
const unsupported = podNetworkUnsupportedReason()
const skip = unsupported === null ? false : `--network pods unavailable here: ${unsupported}`
const EXAMPLES = fileURLToPath(new URL('../../samples/bookinfo/examples/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'meshwork-capture-'))
let mesh: LocalMesh
let net: PodNetwork
let prom: PrometheusServer | undefined
let rulesBefore = ''
/** Bodies POSTed to the OTLP receiver on host loopback (the UI's, played by this test). */
const spans: string[] = []

before(async () => {
  if (skip !== false) return
  rulesBefore = await hostRuleset()
  mesh = await startLocalMesh({
    network: 'pods', dataDir: join(dir, 'data'), ingressPort: 0, controlPort: 0, uiPort: 0, echo: null, restartBackoffMs: 1000,
    // the management server's place: an OTLP receiver on host loopback, where the proxies' spans go
    management: async ({ port }) => {
      const srv = createServer((req, res) => {
        let body = ''
        req.setEncoding('utf8').on('data', c => { body += c }).on('end', () => { if (req.url === '/v1/traces') spans.push(body); res.end('{}') })
      })
      await new Promise<void>(resolve => srv.listen(port, '127.0.0.1', resolve))
      return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>(resolve => srv.close(() => resolve())) }
    }
  })
  net = mesh.podNetwork!
})

after(async () => {
  await prom?.stop()
  await mesh?.stop()
  closeClients()
  rmSync(dir, { recursive: true, force: true })
})

const metrics = async (id: string): Promise<string> => (await get(mesh.proxies.find(p => p.id === id)!.metricsUrl)).body

test('every instance and gateway runs in its own pod: own address and network namespace, sidecar as uid 1337, app without HTTP_PROXY, no default route', { skip }, async () => {
  assert.equal(mesh.network.mode, 'pods')
  assert.match(mesh.summary(), /^network: +pods +a network namespace per workload instance/m)
  const pods = net.pods()
  assert.equal(pods.length, 9, 'seven instances and two gateways')
  assert.equal(new Set(pods.map(p => p.address)).size, 9)
  for (const p of pods) assert.match(p.address, /^198\.18\.\d+\.\d+$/)
  const seen = new Set<string>()
  for (const app of mesh.apps) {
    const a = processIdentity(app.process.pid!)
    const s = processIdentity(app.sidecar.process.pid!)
    assert.equal(a.netns, s.netns, `${app.id}: app and sidecar share the pod`)
    assert.ok(!seen.has(a.netns), `${app.id} has a namespace of its own`)
    seen.add(a.netns)
    assert.equal(s.uid, 1337, `${app.id}: the sidecar runs as the uid exempt from capture`)
    assert.equal(a.uid, process.getuid!())
    const env = readFileSync(`/proc/${app.process.pid}/environ`, 'utf8').split('\0')
    assert.ok(!env.some(e => /^(HTTP_PROXY|http_proxy|HTTPS_PROXY|https_proxy)=/.test(e)), `${app.id} has no proxy variable`)
  }
  assert.notEqual(processIdentity(process.pid).netns, [...seen][0], 'the test itself is in the host namespace')
  // Proof that nothing can leave: no namespace of the run has a default route (IPv4 or IPv6) or any route
  // outside 198.18.0.0/15, and the host's firewall ruleset is untouched.
  for (const ns of net.namespaces()) {
    assert.equal((await runFile('ip', ['-n', ns, 'route', 'show', 'default'])).stdout.trim(), '', ns)
    assert.equal((await runFile('ip', ['-n', ns, '-6', 'route', 'show', 'default'])).stdout.trim(), '', ns)
    for (const line of (await runFile('ip', ['-n', ns, '-4', 'route', 'show', 'table', 'all'])).stdout.split('\n').filter(Boolean)) {
      assert.match(line, /198\.1[89]\.|127\.|^local 198\.18|^broadcast|^local 127/, `${ns}: ${line}`)
    }
  }
  assert.equal(await hostRuleset(), rulesBefore)
})

test('curl http://reviews:9080/ in a pod goes through its sidecar: mTLS to the reviews sidecar (peer identity), metrics on both sides', { skip }, async () => {
  const before = sumMetric(await metrics('productpage-v1-0'), 'meshwork_requests_total', { direction: 'outbound', destination: 'reviews' })
  const out = (await inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '10', '-D', '-', 'http://reviews:9080/reviews/0'])).stdout
  assert.match(out, /^HTTP\/1\.1 200/)
  const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { reviewsVersion: string, instance: string }
  assert.match(body.reviewsVersion, /^v[123]$/)
  assert.equal(sumMetric(await metrics('productpage-v1-0'), 'meshwork_requests_total', { direction: 'outbound', destination: 'reviews' }), before + 1)
  // the serving sidecar saw the call inbound from productpage: its source is the SPIFFE ID of the verified
  // client certificate (mTLS STRICT: a call without one would be refused with 403)
  const inbound = sumMetric(await metrics(body.instance), 'meshwork_requests_total', { direction: 'inbound', source: 'spiffe://cluster.local/ns/default/sa/productpage', code: '200' })
  assert.ok(inbound >= 1, `no inbound request from productpage counted by ${body.instance}`)
})

test('Python urllib with a Kubernetes-style name goes through the sidecar too', { skip }, async () => {
  const py = [
    'import json, urllib.request',
    "r = urllib.request.urlopen('http://reviews.default.svc.cluster.local:9080/reviews/0', timeout=10)",
    "print(json.dumps({'status': r.status, 'body': json.loads(r.read())}))"
  ].join('\n')
  const before = sumMetric(await metrics('details-v1-0'), 'meshwork_requests_total', { direction: 'outbound', destination: 'reviews' })
  const res = JSON.parse((await inPod(net, 'details-v1-0', '/usr/bin/python3', ['-c', py])).stdout) as { status: number, body: { reviewsVersion: string } }
  assert.equal(res.status, 200)
  assert.match(res.body.reviewsVersion, /^v[123]$/)
  assert.equal(sumMetric(await metrics('details-v1-0'), 'meshwork_requests_total', { direction: 'outbound', destination: 'reviews' }), before + 1)
})

test('route rules apply to captured calls: after a 100% reviews-v3 route, curl in a pod only sees v3', { skip }, async () => {
  const r = await mesh.controlPlane.apply(readFileSync(join(EXAMPLES, 'reviews-v3.yaml'), 'utf8'), 'reviews-v3.yaml')
  assert.equal(r.ok, true, JSON.stringify(r.problems))
  for (const s of await mesh.controlPlane.waitForSync(10_000)) assert.equal(s.status, 'SYNCED', `${s.id}: ${s.error ?? ''}`)
  const versions = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const out = (await inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '10', 'http://reviews:9080/reviews/0'])).stdout
    versions.add((JSON.parse(out) as { reviewsVersion: string }).reviewsVersion)
  }
  assert.deepEqual([...versions], ['v3'])
  // the ingress (host loopback → forwarder → ingress pod) still serves the product page through the mesh
  const view = await productThroughIngress(mesh.ingressUrl!)
  assert.equal(view.status, 200, view.errors.join('; '))
  assert.equal(view.reviewsVersion, 'v3')
  assert.match(mesh.ingressUrl!, /^http:\/\/127\.0\.0\.1:\d+$/)
})

test('a service the mesh does not know gets MESH_ERR_NO_ROUTE from the sidecar, by name (catch-all DNS) or by address; outside addresses are unreachable at once', { skip }, async () => {
  const t0 = Date.now()
  // curl: the name is not in the pod's hosts file; the sidecar's catch-all DNS answers the no-route address
  const byName = (await inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '10', '-D', '-', 'http://no-such-service:9080/x'])).stdout
  assert.match(byName, /^HTTP\/1\.1 404/)
  assert.match(byName, /^x-meshwork-error: MESH_ERR_NO_ROUTE\r$/m)
  assert.match(byName, /no route for no-such-service:9080\/x/)
  // Python's urllib: the same answer, as an HTTPError with the code in its headers
  const py = [
    'import urllib.request, urllib.error',
    'try:',
    "    urllib.request.urlopen('http://ledger.bank.svc.cluster.local/balance', timeout=10)",
    'except urllib.error.HTTPError as e:',
    "    print(e.code, e.headers['x-meshwork-error'])"
  ].join('\n')
  assert.equal((await inPod(net, 'productpage-v1-0', '/usr/bin/python3', ['-c', py])).stdout.trim(), '404 MESH_ERR_NO_ROUTE')
  // an address of the service range no service has
  const byAddress = (await inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '10', '-D', '-', 'http://198.19.200.1:9080/'])).stdout
  assert.match(byAddress, /^x-meshwork-error: MESH_ERR_NO_ROUTE\r$/m)
  // an address outside the mesh: no route out of the pod, refused at once (curl exit 7)
  await assert.rejects(inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '10', 'http://192.0.2.10:80/']), (e: { code?: number }) => e.code === 7)
  assert.ok(Date.now() - t0 < 5000, `answers took ${Date.now() - t0} ms`)
  assert.ok(sumMetric(await metrics('productpage-v1-0'), 'meshwork_dns_catch_all_queries_total', { type: 'A' }) >= 2)
})

test('non-HTTP TCP from a pod is refused at once, counted and logged: TLS gets a handshake alert, other protocols a MESH_ERR_NOT_HTTP line', { skip }, async () => {
  const py = [
    'import socket, ssl, json',
    'out = {}',
    'try:',
    "    ssl.create_default_context().wrap_socket(socket.create_connection(('reviews', 9080), timeout=5), server_hostname='reviews')",
    "    out['tls'] = 'connected'",
    'except ssl.SSLError as e:',
    "    out['tls'] = e.reason",
    "s = socket.create_connection(('ratings', 9080), timeout=5)",
    "s.sendall(b'SSH-2.0-OpenSSH_9.2\\r\\n')",
    "out['line'] = s.makefile('rb').readline().decode()",
    'print(json.dumps(out))'
  ].join('\n')
  const t0 = Date.now()
  const res = JSON.parse((await inPod(net, 'reviews-v2-0', '/usr/bin/python3', ['-c', py])).stdout) as { tls: string, line: string }
  assert.ok(Date.now() - t0 < 5000)
  assert.match(res.tls, /HANDSHAKE_FAILURE/i)
  assert.match(res.line, /^MESH_ERR_NOT_HTTP: /)
  const m = await metrics('reviews-v2-0')
  assert.equal(sumMetric(m, 'meshwork_outbound_refused_total', { reason: 'tls' }), 1)
  assert.equal(sumMetric(m, 'meshwork_outbound_refused_total', { reason: 'not_http' }), 1)
  await waitUntil(() => readFileSync(join(dir, 'data', 'logs', 'reviews-v2-0-sidecar.log'), 'utf8').includes('MESH_ERR_NOT_HTTP'), 'the refusal in the sidecar log', 5000)
})

test('the host reaches the pods: a real Prometheus scrapes every proxy\'s admin listener at its pod address; the control plane and the OTLP receiver stay on loopback', { skip }, async () => {
  assert.match(mesh.controlPlane.url, /^http:\/\/127\.0\.0\.1:/)
  // spans of the calls above reached the receiver on host loopback from the pods (through the forwarder)
  await waitUntil(() => spans.some(b => b.includes('productpage-v1-0')), 'spans from the productpage sidecar', 15_000, 200)
  assert.equal(mesh.controlPlane.registry.connected().length, 9, 'every proxy reached the control plane from its pod')
  const targets = mesh.scrapeTargets()
  for (const t of targets) assert.match(t.address, /^198\.18\.\d+\.\d+:15000$/)
  prom = await startPrometheus({ dir: join(dir, 'prometheus'), targets, scrapeIntervalMs: 1000 })
  await waitUntil(async () => {
    const health = await prom!.targetHealth()
    return health.size === 9 && [...health.values()].every(h => h === 'up')
  }, 'Prometheus to scrape all 9 proxies', 30_000, 500)
})

test('a Workload applied while the mesh runs gets a pod of its own, its name resolves in the running pods; deleting it removes the pod', { skip }, async () => {
  const ratings = fileURLToPath(new URL('../../samples/bookinfo/ratings.mjs', import.meta.url))
  const r = await mesh.controlPlane.apply(`apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: extras-v1 }
spec: { service: extras, version: v1, port: 9080, command: [node, ${JSON.stringify(ratings)}] }
`, 'extras.yaml')
  assert.equal(r.ok, true, JSON.stringify(r.problems))
  // the runtime reconciles by itself on the change; this waits for the pass (which may be its own)
  const pass = await mesh.reconcile()
  assert.deepEqual(pass.failed, [])
  await waitUntil(() => mesh.app('extras-v1-0') !== undefined && net.pod('extras-v1-0') !== undefined, 'the extras instance in its pod', 30_000)
  const pod = net.pod('extras-v1-0')!
  // productpage's pod was started before `extras` existed: its hosts file was rewritten in place
  await waitUntil(async () => {
    try {
      return (await inPod(net, 'productpage-v1-0', 'curl', ['-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://extras:9080/ratings/0'])).stdout === '200'
    } catch { return false }
  }, 'extras to answer through the mesh from an older pod', 20_000, 250)
  assert.equal((await mesh.controlPlane.delete(['Workload/default/extras-v1'])).ok, true)
  await mesh.reconcile()
  await waitUntil(() => net.pod('extras-v1-0') === undefined, 'the extras pod removed', 30_000)
  assert.ok(!(await runLeftovers(net.run)).includes(pod.netns), 'its namespace is gone')
})

test('stop removes every namespace, veth, bridge, rule and /etc/netns entry of the run', { skip }, async () => {
  const run = net.run
  assert.ok((await runLeftovers(run)).length > 0)
  await prom?.stop()
  prom = undefined
  await mesh.stop()
  assert.deepEqual(await runLeftovers(run), [])
  assert.deepEqual(mesh.livePids(), [])
  assert.equal(await hostRuleset(), rulesBefore)
})
