import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { meshworkCommand } from './meshwork-command.ts'
import { PROXY_NODE_FLAGS } from './proxy-node-flags.ts'

test('a proxy command starts node with the proxy flags, before the entry point', () => {
  const { args } = meshworkCommand(['proxy', '--snapshot', 's.json'])
  assert.deepEqual(args.slice(0, PROXY_NODE_FLAGS.length), [...PROXY_NODE_FLAGS])
  assert.deepEqual(args.slice(-3), ['proxy', '--snapshot', 's.json'])
})

test('other commands get no proxy flags', () => {
  const { args } = meshworkCommand(['up'])
  for (const f of PROXY_NODE_FLAGS) assert.equal(args.includes(f), false)
})

test('node accepts every proxy flag', () => {
  const r = spawnSync(process.execPath, [...PROXY_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
})
