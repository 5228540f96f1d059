import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { notReadableByOthers, podNetworkUnsupportedReason, unreadableProxyFileReason } from './capability.ts'

test('without CAP_NET_ADMIN and CAP_SYS_ADMIN pod networking is refused with the missing capabilities named', () => {
  assert.match(podNetworkUnsupportedReason(0n) ?? '', /needs CAP_SETGID, CAP_SETUID, CAP_NET_ADMIN, CAP_SYS_ADMIN \(run as root\)/)
})

test('a sidecar (another uid) must reach meshwork\'s code: a directory without o+x or a file without o+r is named', () => {
  const root = mkdtempSync(join(tmpdir(), 'mw-cap-'))
  try {
    mkdirSync(join(root, 'home'))
    const file = join(root, 'home', 'main.js')
    writeFileSync(file, '')
    chmodSync(root, 0o755)
    chmodSync(join(root, 'home'), 0o755)
    chmodSync(file, 0o644)
    assert.equal(notReadableByOthers(file), null)
    chmodSync(join(root, 'home'), 0o700)
    assert.equal(notReadableByOthers(file), join(root, 'home'))
    chmodSync(join(root, 'home'), 0o755)
    chmodSync(file, 0o600)
    assert.equal(notReadableByOthers(file), file)
    assert.match(unreadableProxyFileReason(['/usr/bin/env', file]) ?? '', /sidecars \(uid 1337\) to read .*main\.js/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
