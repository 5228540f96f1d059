// Root only (CI runs as root): real namespaces, veths, bridges and nftables, with curl and Python's urllib
// as the apps. Skipped with the reason elsewhere.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { after, test } from 'node:test'
import { promisify } from 'node:util'
import { podNetworkUnsupportedReason } from './capability.ts'
import { cleanStaleRuns, findRuns } from './cleanup.ts'
import { listLinks, listNamespaces } from './commands.ts'
import { ETC_NETNS } from './names.ts'
import { type Pod, PodNetwork } from './pod-network.ts'

const run = promisify(execFile)
const unsupported = podNetworkUnsupportedReason()
const skip = unsupported === null ? false : `pod networking unavailable here: ${unsupported}`
const children: ChildProcess[] = []
after(() => { for (const c of children) c.kill('SIGKILL') })

/** A stand-in sidecar (uid 1337): answers every HTTP request with which listener got it and the Host header. */
const FAKE_SIDECAR = `
const http = require('node:http')
for (const [host, port, tag] of [['127.0.0.1', 15001, 'outbound'], ['0.0.0.0', 15006, 'inbound']]) {
  http.createServer((req, res) => res.end(JSON.stringify({ tag, host: req.headers.host, uid: process.getuid(), from: req.socket.remoteAddress }))).listen(port, host)
}
setTimeout(() => process.stdout.write('up\\n'), 200)`

async function startIn (net: PodNetwork, pod: Pod, as: 'proxy' | 'app', script: string): Promise<void> {
  const { command, args } = net.command(pod, process.execPath, ['-e', script], as)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  await once(child.stdout!, 'data')
}

function inPod (net: PodNetwork, pod: Pod, cmd: string, args: string[], as: 'proxy' | 'app' = 'app'): Promise<{ stdout: string }> {
  const c = net.command(pod, cmd, args, as)
  return run(c.command, c.args, { timeout: 15_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
}

test('pods get their own address; curl and urllib calls to a service name are captured by the sidecar; the sidecar uid is exempt; no default route anywhere', { skip }, async () => {
  const rulesBefore = (await run('nft', ['list', 'ruleset'])).stdout
  const net = await PodNetwork.create({ nodes: 2 })
  try {
    const a = await net.addPod({ id: 'client-v1-0', node: 0, namespace: 'default', capture: { appPorts: [9080] } })
    const b = await net.addPod({ id: 'reviews-v1-0', node: 1, namespace: 'default', capture: { appPorts: [9080] } })
    net.setServices([{ name: 'reviews', namespace: 'default' }])
    assert.notEqual(a.address, b.address)
    await startIn(net, a, 'proxy', FAKE_SIDECAR)
    await startIn(net, b, 'proxy', FAKE_SIDECAR)

    // curl (an unmodified client, no HTTP_PROXY) in pod a: the name resolves from the pod's hosts file and the
    // connection lands on the sidecar's outbound listener, with the Host header to route by
    const viaCurl = JSON.parse((await inPod(net, a, 'curl', ['-sS', '--max-time', '5', 'http://reviews.default.svc.cluster.local:9080/x'])).stdout)
    assert.deepEqual(viaCurl, { tag: 'outbound', host: 'reviews.default.svc.cluster.local:9080', uid: 1337, from: '198.19.0.1' })
    const py = "import urllib.request;print(urllib.request.urlopen('http://reviews:9080/', timeout=5).read().decode())"
    const viaPython = JSON.parse((await inPod(net, a, '/usr/bin/python3', ['-c', py])).stdout)
    assert.equal(viaPython.tag, 'outbound')
    assert.equal(viaPython.host, 'reviews:9080')

    // the sidecar's own call to the peer pod's app port crosses nodes and is redirected to the peer's inbound
    const peer = JSON.parse((await inPod(net, a, 'curl', ['-sS', '--max-time', '5', `http://${b.address}:9080/`], 'proxy')).stdout)
    assert.deepEqual(peer, { tag: 'inbound', host: `${b.address}:9080`, uid: 1337, from: a.address })

    // an unknown name fails at once (no DNS server to wait for); an address outside the mesh is unreachable
    const t0 = Date.now()
    await assert.rejects(inPod(net, a, 'curl', ['-sS', '--max-time', '5', 'http://nowhere.example:80/']), (e: { code?: number }) => e.code === 6)
    await assert.rejects(inPod(net, a, 'curl', ['-sS', '--max-time', '5', 'http://93.184.216.34:80/'], 'proxy'), /unreachable|Couldn't connect/i)
    assert.ok(Date.now() - t0 < 3000, `failures took ${Date.now() - t0} ms`)

    // no default route (v4 or v6) in any namespace of the run, and no route to the outside
    for (const ns of net.namespaces()) {
      assert.equal((await run('ip', ['-n', ns, 'route', 'show', 'default'])).stdout.trim(), '', ns)
      assert.equal((await run('ip', ['-n', ns, '-6', 'route', 'show', 'default'])).stdout.trim(), '', ns)
      await assert.rejects(run('ip', ['-n', ns, 'route', 'get', '8.8.8.8']), /unreachable/i, ns)
    }
    // the redirect counters of pod a's rules moved: the traffic went through the rules
    const rules = (await inPod(net, a, 'nft', ['list', 'table', 'ip', 'meshwork'])).stdout
    assert.match(rules, /counter packets [1-9]\d* bytes \d+ redirect to :15001/)
  } finally {
    await net.close()
  }
  assert.deepEqual(await leftovers(net.run), [])
  assert.equal((await run('nft', ['list', 'ruleset'])).stdout, rulesBefore, 'the host ruleset is untouched')
})

test('two pod networks at once take different blocks and names; a stale one (owner SIGKILLed) is removed by the next start', { skip }, async () => {
  // the owner of the stale run: a process that builds a network with one pod and is SIGKILLed
  const owner = spawn(process.execPath, ['--import', 'tsx', '-e', `
    import('${new URL('./pod-network.ts', import.meta.url).href}').then(async ({ PodNetwork }) => {
      const net = await PodNetwork.create({ nodes: 1 })
      await net.addPod({ id: 'orphan-v1-0', node: 0, namespace: 'default', capture: { appPorts: [80] } })
      process.stdout.write(net.run + ' ' + net.block.index + '\\n')
      setInterval(() => {}, 1000)
    })`], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(owner)
  const [line] = await Promise.race([
    once(owner.stdout!, 'data') as Promise<[Buffer]>,
    once(owner, 'exit').then(([code]) => { throw new Error(`the owner process exited (${code}) before building its network`) })
  ])
  const [staleRun, staleBlock] = line.toString().trim().split(' ')
  const live = await PodNetwork.create({ nodes: 1 })
  try {
    assert.notEqual(live.block.index, Number(staleBlock), 'a live run keeps its block')
    owner.kill('SIGKILL')
    await once(owner, 'exit')
    assert.ok((await leftovers(staleRun)).length > 0, 'the SIGKILLed run left its namespaces')
    const removed = await cleanStaleRuns()
    assert.ok(removed.some(l => l.startsWith(staleRun)), removed.join('\n'))
    assert.deepEqual(await leftovers(staleRun), [])
    assert.ok((await findRuns()).has(live.run), 'the live run is left alone')
  } finally {
    await live.close()
  }
  assert.deepEqual(await leftovers(live.run), [])
})

/** Whatever of `run` still exists: namespaces, host links, /etc/netns dirs. */
async function leftovers (run: string): Promise<string[]> {
  const mine = (n: string): boolean => n.startsWith(`mw-${run}-`) || n === `mw${run}`
  let etc: string[] = []
  try { etc = readdirSync(ETC_NETNS) } catch {}
  return [...(await listNamespaces()).filter(mine), ...(await listLinks()).filter(mine), ...etc.filter(mine).map(d => `${ETC_NETNS}/${d}`)]
}

test('two pod networks created at the same moment get different address blocks', { skip }, async () => {
  const [a, b] = await Promise.all([PodNetwork.create(), PodNetwork.create()])
  try {
    assert.notEqual(a.block.index, b.block.index)
    assert.notEqual(a.run, b.run)
  } finally {
    await Promise.all([a.close(), b.close()])
  }
  assert.deepEqual([...await leftovers(a.run), ...await leftovers(b.run)], [])
})
