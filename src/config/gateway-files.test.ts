import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { ConfigInvalidError } from '../errors.ts'
import { loadResourceFiles } from './load.ts'

let dir: string

const gateway = (tls: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ingress }
spec:
  listeners:
    - { name: http, port: 8080, protocol: HTTP }
    - name: https
      port: 8443
      protocol: HTTPS
      hostname: echo.example.com
${tls}
`

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshwork-gw-files-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
    '-days', '1', '-subj', '/CN=echo.example.com'], { stdio: 'ignore' })
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', join(dir, 'other.key')], { stdio: 'ignore' })
})
after(() => rmSync(dir, { recursive: true, force: true }))

async function problems (file: string): Promise<{ path: string, reason: string }[]> {
  try {
    await loadResourceFiles([file])
    return []
  } catch (err) {
    return (err as ConfigInvalidError).problems
  }
}

test('an HTTPS listener\'s certificate files are resolved relative to the mesh file and checked when it is loaded', async () => {
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, gateway('      tls: { mode: Terminate, certificateRefs: [{ name: echo, certFile: tls.crt, keyFile: tls.key }] }'))
  const [loaded] = await loadResourceFiles([file])
  const ref = (loaded.resource.spec as { listeners: { tls?: { certificateRefs: { certFile: string, keyFile: string }[] } }[] }).listeners[1].tls!.certificateRefs[0]
  assert.equal(ref.certFile, join(dir, 'tls.crt'))
  assert.equal(ref.keyFile, join(dir, 'tls.key'))
})

test('a key that does not match, a missing file, no certificate, Passthrough: MESH_ERR_CONFIG_INVALID naming the path and the reason', async () => {
  const cases: [string, RegExp, RegExp][] = [
    ['      tls: { certificateRefs: [{ name: echo, certFile: tls.crt, keyFile: other.key }] }', /certificateRefs\[0\]\.keyFile/, /is not the private key of/],
    ['      tls: { certificateRefs: [{ name: echo, certFile: missing.crt, keyFile: tls.key }] }', /certificateRefs\[0\]\.certFile/, /cannot read .*ENOENT/],
    ['      tls: { certificateRefs: [{ name: echo, certFile: tls.crt }] }', /certificateRefs\.0\.keyFile|certificateRefs\[0\]\.keyFile/, /needs keyFile/],
    ['', /listeners\[1\]\.tls|listeners\.1\.tls/, /an HTTPS listener needs tls/],
    ['      tls: { mode: Passthrough, certificateRefs: [{ name: echo, certFile: tls.crt, keyFile: tls.key }] }', /tls\.mode/, /Passthrough is not supported/]
  ]
  for (const [tls, path, reason] of cases) {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, gateway(tls))
    const p = await problems(file)
    assert.ok(p.some(x => path.test(x.path) && reason.test(x.reason)), `${tls || '(no tls)'}: ${JSON.stringify(p)}`)
  }
})
