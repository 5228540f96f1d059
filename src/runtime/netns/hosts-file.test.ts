import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderHostsFile, renderNsswitch, updatePodHosts, writePodEtc } from './hosts-file.ts'

const services = [
  { name: 'reviews', namespace: 'default', vip: '198.19.0.1' },
  { name: 'reviews-v2', namespace: 'default', vip: '198.19.0.2' },
  { name: 'ledger', namespace: 'bank', vip: '198.19.0.3' }
]

test('every service resolves as <name>, <name>.<ns>, <name>.<ns>.svc and <name>.<ns>.svc.cluster.local; short names only in the pod namespace', () => {
  const text = renderHostsFile({ pod: 'productpage-v1-0', address: '198.18.17.2', namespace: 'default', services })
  assert.match(text, /^198\.19\.0\.1\treviews reviews\.default reviews\.default\.svc reviews\.default\.svc\.cluster\.local$/m)
  assert.match(text, /^198\.19\.0\.2\treviews-v2 reviews-v2\.default /m)
  assert.match(text, /^198\.19\.0\.3\tledger\.bank ledger\.bank\.svc ledger\.bank\.svc\.cluster\.local$/m)
  assert.match(text, /^198\.18\.17\.2\tproductpage-v1-0$/m)
  assert.match(text, /^127\.0\.0\.1\tlocalhost$/m)
})

test('nsswitch resolves hosts from /etc/hosts then DNS only, and keeps the other databases', () => {
  const out = renderNsswitch('passwd: files systemd\nhosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\nnetworks: files\n')
  assert.match(out, /^hosts: files dns$/m)
  assert.doesNotMatch(out, /mdns/)
  assert.match(out, /^passwd: files systemd$/m)
})

test('the hosts file is rewritten in place (same inode), so a bind mount of it sees new services', () => {
  const root = mkdtempSync(join(tmpdir(), 'mw-etc-'))
  try {
    writePodEtc('mw-abcdef-p-a', { pod: 'a', address: '198.18.17.2', namespace: 'default', services: services.slice(0, 1) }, root)
    const file = join(root, 'mw-abcdef-p-a', 'hosts')
    const inode = statSync(file).ino
    updatePodHosts('mw-abcdef-p-a', { pod: 'a', address: '198.18.17.2', namespace: 'default', services }, root)
    assert.equal(statSync(file).ino, inode)
    assert.match(readFileSync(file, 'utf8'), /ledger\.bank/)
    assert.match(readFileSync(join(root, 'mw-abcdef-p-a', 'resolv.conf'), 'utf8'), /nameserver 127\.0\.0\.1/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
