import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { writeBenchIdentities, type IdentityFiles } from '../../bench/scenarios/certs.ts'
import { findExecutable } from '../../bench/scenarios/scenarios.ts'
import { haproxyArgs, renderHaproxySidecar } from './haproxy-config.ts'
import { NGINX_TEMP_DIRS, renderNginxSidecar } from './nginx-config.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-nginx-'))
let ids: Record<string, IdentityFiles>
before(async () => { ids = await writeBenchIdentities(dir, ['bench-client', 'app']) })
after(() => rmSync(dir, { recursive: true, force: true }))

test('nginx sidecar configs (server side mTLS in, client side mTLS out) pass `nginx -t`', { skip: findExecutable('nginx') === null && 'nginx not installed' }, () => {
  const c = ids['bench-client']
  const s = ids.app
  const server = renderNginxSidecar({ workDir: join(dir, 'srv'), listen: { host: '127.0.0.1', port: 18443 }, upstream: { host: '127.0.0.1', port: 18080 }, inboundTls: { certFile: s.certFile, keyFile: s.keyFile, caFile: s.caFile, peerName: c.name } })
  const client = renderNginxSidecar({ workDir: join(dir, 'cli'), listen: { host: '127.0.0.1', port: 18001 }, upstream: { host: '127.0.0.1', port: 18443 }, upstreamTls: { certFile: c.certFile, keyFile: c.keyFile, caFile: c.caFile, peerName: s.name } })
  assert.match(server, /ssl_verify_client on;/)
  assert.match(client, /proxy_ssl_verify on;/)
  assert.match(client, /proxy_ssl_name app;/)
  assert.match(client, /keepalive 256;/)
  for (const [name, conf] of [['srv', server], ['cli', client]]) {
    const d = join(dir, name)
    for (const t of NGINX_TEMP_DIRS) mkdirSync(join(d, t), { recursive: true })
    writeFileSync(join(d, 'nginx.conf'), conf)
    const r = spawnSync(findExecutable('nginx')!, ['-t', '-p', d, '-e', join(d, 'error.log'), '-c', join(d, 'nginx.conf')], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  }
})

test('gRPC nginx sidecar configs (grpc_pass, h2 listeners, grpc_ssl_* to the peer) pass `nginx -t`', { skip: findExecutable('nginx') === null && 'nginx not installed' }, () => {
  const c = ids['bench-client']
  const s = ids.app
  const server = renderNginxSidecar({ grpc: true, workDir: join(dir, 'gsrv'), listen: { host: '127.0.0.1', port: 18444 }, upstream: { host: '127.0.0.1', port: 18081 }, inboundTls: { certFile: s.certFile, keyFile: s.keyFile, caFile: s.caFile, peerName: c.name } })
  const client = renderNginxSidecar({ grpc: true, workDir: join(dir, 'gcli'), listen: { host: '127.0.0.1', port: 18002 }, upstream: { host: '127.0.0.1', port: 18444 }, upstreamTls: { certFile: c.certFile, keyFile: c.keyFile, caFile: c.caFile, peerName: s.name } })
  assert.match(server, /listen 127\.0\.0\.1:18444 ssl http2 reuseport;/)
  assert.match(server, /grpc_pass grpc:\/\/app;/)
  assert.match(client, /listen 127\.0\.0\.1:18002 http2 reuseport;/)
  assert.match(client, /grpc_pass grpcs:\/\/app;/)
  assert.match(client, /grpc_ssl_name app;/)
  assert.doesNotMatch(client, /proxy_pass/)
  for (const [name, conf] of [['gsrv', server], ['gcli', client]]) {
    const d = join(dir, name)
    for (const t of NGINX_TEMP_DIRS) mkdirSync(join(d, t), { recursive: true })
    writeFileSync(join(d, 'nginx.conf'), conf)
    const r = spawnSync(findExecutable('nginx')!, ['-t', '-p', d, '-e', join(d, 'error.log'), '-c', join(d, 'nginx.conf')], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  }
})

test('HAProxy sidecar configs pass `haproxy -c`', { skip: findExecutable('haproxy') === null && 'haproxy not installed' }, () => {
  const c = ids['bench-client']
  const s = ids.app
  const server = renderHaproxySidecar({ listen: { host: '127.0.0.1', port: 18443 }, upstream: { host: '127.0.0.1', port: 18080 }, inboundTls: { ...s, peerName: c.name } })
  const client = renderHaproxySidecar({ listen: { host: '127.0.0.1', port: 18001 }, upstream: { host: '127.0.0.1', port: 18443 }, upstreamTls: { ...c, peerName: s.name } })
  assert.match(server, /verify required/)
  assert.match(client, /verifyhost app/)
  for (const [name, conf] of [['srv.cfg', server], ['cli.cfg', client]]) {
    const f = join(dir, name)
    writeFileSync(f, conf)
    const r = spawnSync(findExecutable('haproxy')!, ['-c', ...haproxyArgs(f).filter(a => a !== '-db')], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
  }
})
