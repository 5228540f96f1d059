// `meshwork inject` with transparent capture (the default): an init container loads the same nftables rules
// as `meshwork up --network pods`, the proxy runs as uid 1337, the app keeps no HTTP_PROXY, kubelet's HTTP
// probes of captured ports go through the proxy's admin listener; schema-validated golden files; the webhook
// produces the same pod. The init container's command line is run for real in a network namespace (root).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import { INIT_CONTAINER } from '../../src/adapters/kubernetes/capture-init.ts'
import { injectManifests } from '../../src/adapters/kubernetes/inject-manifests.ts'
import { toYamlStream } from '../../src/adapters/kubernetes/manifest-io.ts'
import { injectPodTemplate, PROXY_CONTAINER, type SidecarOptions } from '../../src/adapters/kubernetes/sidecar.ts'
import { validateManifest } from '../../src/adapters/kubernetes/validate-manifest.ts'
import { handleAdmissionReview } from '../../src/adapters/kubernetes/webhook.ts'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { podNetworkUnsupportedReason } from '../../src/runtime/netns/capability.ts'
import { renderCaptureRules } from '../../src/runtime/netns/capture-rules.ts'
import { FIXTURES, assertGolden } from './golden.ts'

type Obj = Record<string, any>
const run = promisify(execFile)
const OPTS: SidecarOptions = { image: 'meshwork/meshwork:0.1.0', controlPlane: 'http://meshwork-control.meshwork.svc:15010' }
const docs = (file: string): Obj[] => parseAllDocuments(readFileSync(join(FIXTURES, file), 'utf8')).map(d => d.toJS())
const arg = (args: string[], flag: string): string | undefined => { const i = args.indexOf(flag); return i === -1 ? undefined : args[i + 1] }
const podSpec = (o: Obj): Obj => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec)

test('inject: an init container with NET_ADMIN installs the capture rules, the proxy runs as uid 1337, the app has no HTTP_PROXY; valid, golden', () => {
  const { objects, report } = injectManifests(docs('deploy.yaml'), OPTS)
  assert.deepEqual(report.map(r => r.outcome), ['injected', 'disabled', 'not-a-workload', 'injected'])
  for (const o of objects) assert.deepEqual(validateManifest(o), [], (o as Obj).metadata.name)
  const spec = podSpec(objects[0] as Obj)
  assert.deepEqual(spec.initContainers.map((c: Obj) => c.name), [INIT_CONTAINER, PROXY_CONTAINER], 'rules first, then the native sidecar')
  const init = spec.initContainers[0]
  assert.equal(init.image, OPTS.image, 'Meshwork\'s own image runs the rule generator')
  assert.deepEqual(init.args.slice(0, 3), ['netns', 'rules', '--apply'])
  assert.deepEqual(init.securityContext.capabilities, { add: ['NET_ADMIN'], drop: ['ALL'] })
  assert.equal(init.securityContext.runAsUser, 0)
  assert.equal(init.securityContext.privileged, false)
  const proxy = spec.initContainers[1]
  assert.equal(proxy.securityContext.runAsUser, 1337)
  assert.equal(arg(init.args, '--proxy-uid'), '1337', 'the rules exempt the uid the proxy runs as')
  assert.equal(arg(proxy.args, '--advertise'), '$(POD_IP):9080', 'peers dial the app port; the rules hand it to the inbound listener')
  assert.equal(arg(proxy.args, '--inbound'), '0.0.0.0:15006')
  for (const c of spec.containers) assert.ok(!(c.env ?? []).some((e: Obj) => /proxy/i.test(e.name)), `${c.name} has no proxy variable`)
  assert.equal((objects[0] as Obj).spec.template.metadata.annotations['meshwork.dev/capture'], 'nftables')
  assert.equal(arg(podSpec(objects[3] as Obj).initContainers[0].args, '--app-ports'), '8000', 'CronJob: its own container port')
  assertGolden('inject-deploy-capture.yaml', toYamlStream(objects))
})

test('inject: HTTP probes of captured ports go through the proxy admin (registered with --app-probe); TCP probes and annotations as asked; golden', () => {
  const { objects } = injectManifests(docs('deploy-probes.yaml'), OPTS)
  assert.deepEqual(validateManifest(objects[0]), [])
  const spec = podSpec(objects[0] as Obj)
  const app = spec.containers[0]
  assert.deepEqual(app.readinessProbe, { httpGet: { path: '/app-health/9080/ready', port: 15000 }, periodSeconds: 5 })
  assert.deepEqual(app.livenessProbe, { httpGet: { path: '/app-health/9080/livez?deep=1', port: 15000 }, failureThreshold: 3 })
  assert.deepEqual(app.startupProbe, { tcpSocket: { port: 9080 } }, 'TCP probes are left alone')
  const proxy = spec.initContainers.find((c: Obj) => c.name === PROXY_CONTAINER)
  const probes = proxy.args.flatMap((a: string, i: number) => a === '--app-probe' ? [proxy.args[i + 1]] : [])
  assert.deepEqual(probes, ['9080/ready', '9080/livez?deep=1'])
  assert.equal(arg(proxy.args, '--app-health-path'), '/ready', 'the sidecar probes what the readiness probe did')
  const init = spec.initContainers.find((c: Obj) => c.name === INIT_CONTAINER)
  assert.equal(arg(init.args, '--app-ports'), '9080,9090', 'every container port is captured')
  assert.equal(arg(init.args, '--exclude-outbound-ports'), '53,5432')
  assert.equal(arg(init.args, '--exclude-outbound-ranges'), '10.96.0.1/32')
  assertGolden('inject-probes-capture.yaml', toYamlStream(objects))

  const off = docs('deploy-probes.yaml')[0]
  off.spec.template.metadata.annotations['meshwork.dev/rewrite-probes'] = 'false'
  assert.deepEqual(injectPodTemplate(off.spec.template, OPTS, { name: 'ratings-v1' }).template.spec.containers[0].readinessProbe, off.spec.template.spec.containers[0].readinessProbe)
  const bad = docs('deploy-probes.yaml')[0]
  bad.spec.template.metadata.annotations['meshwork.dev/exclude-outbound-ip-ranges'] = '10.0.0.0/8; flush ruleset'
  assert.throws(() => injectPodTemplate(bad.spec.template, OPTS, { name: 'ratings-v1' }), (e: { code?: string }) => e.code === 'MESH_ERR_CONFIG_INVALID')
})

test('webhook: the JSONPatch produces the same pod as meshwork inject, init container included', () => {
  const pod: Obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ratings-v1-abc', namespace: 'bookinfo', labels: { app: 'ratings', version: 'v1' } }, spec: docs('deploy-probes.yaml')[0].spec.template.spec }
  pod.metadata.annotations = docs('deploy-probes.yaml')[0].spec.template.metadata.annotations
  const res = handleAdmissionReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: pod } }, OPTS)
  const patched = structuredClone(pod)
  for (const op of JSON.parse(Buffer.from(res.response.patch!, 'base64').toString()) as Obj[]) {
    const parts = (op.path as string).split('/').slice(1)
    let cur = patched
    for (const p of parts.slice(0, -1)) cur = cur[p]
    cur[parts.at(-1)!] = op.value
  }
  const expected = injectPodTemplate({ metadata: pod.metadata, spec: pod.spec }, OPTS, { name: 'ratings-v1-abc' }).template
  assert.deepEqual(patched.spec, expected.spec)
  assert.deepEqual(validateManifest(patched), [])
  assert.equal(patched.spec.initContainers[0].name, INIT_CONTAINER)
})

test('the init container\'s command renders exactly the rules meshwork up loads (one generator)', async () => {
  const init = podSpec(injectManifests(docs('deploy-probes.yaml'), OPTS).objects[0] as Obj).initContainers[0]
  const args = (init.args as string[]).map(a => a === '--apply' ? '--print' : a)
  const { command, args: full } = meshworkCommand(args)
  const printed = (await run(command, full)).stdout
  assert.equal(printed, renderCaptureRules({ appPorts: [9080, 9090], excludeOutboundPorts: [53, 5432], excludeOutboundCidrs: ['10.96.0.1/32'] }))
})

const unsupported = podNetworkUnsupportedReason()
test('the init container\'s command loads the rules into a pod network namespace (as in the pod)', { skip: unsupported === null ? false : `needs root: ${unsupported}` }, async () => {
  const init = podSpec(injectManifests(docs('deploy-probes.yaml'), OPTS).objects[0] as Obj).initContainers[0]
  const ns = `k8s-init-test-${process.pid}`
  await run('ip', ['netns', 'add', ns])
  try {
    const { command, args } = meshworkCommand(init.args)
    const out = await run('ip', ['netns', 'exec', ns, command, ...args])
    assert.match(out.stdout, /capture rules loaded/)
    const table = (await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'meshwork'])).stdout
    assert.match(table, /tcp dport \{ 9080, 9090 \} counter packets 0 bytes 0 redirect to :15006/)
    assert.match(table, /meta skuid 1337 counter packets 0 bytes 0 return/)
    assert.match(table, /ip daddr 10\.96\.0\.1 return/)
    assert.match(table, /redirect to :15001/)
    // loading twice (a restarted init container) replaces the rules instead of failing or doubling them
    await run('ip', ['netns', 'exec', ns, command, ...args])
    const again = (await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'meshwork'])).stdout
    assert.equal(again.match(/redirect to :15001/g)?.length, 1)
  } finally {
    await run('ip', ['netns', 'del', ns])
  }
})
