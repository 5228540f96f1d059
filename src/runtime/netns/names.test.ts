import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkPodId, fabricNamespace, hostLinkName, newRunId, nodeNamespace, podNamespace, runOfLink, runOfNamespace } from './names.ts'

test('every name carries the run id and is recognised as the run\'s; foreign names are not', () => {
  const run = newRunId()
  assert.match(run, /^[0-9a-f]{6}$/)
  for (const ns of [fabricNamespace(run), nodeNamespace(run, 3), podNamespace(run, 'reviews-v2-0')]) assert.equal(runOfNamespace(ns), run)
  assert.equal(runOfLink(hostLinkName(run)), run)
  assert.ok(hostLinkName(run).length <= 15, 'fits IFNAMSIZ')
  for (const foreign of ['mw-xyz', 'cni-1234', 'mw-abcdef', 'mw-abcdef-other', 'mw-ABCDEF-n0']) assert.equal(runOfNamespace(foreign), null, foreign)
  assert.equal(runOfLink('mwabcdefg'), null)
  assert.equal(runOfLink('eth0'), null)
})

test('pod ids must be DNS-label-like (they become file and namespace names)', () => {
  checkPodId('reviews-v2-0')
  assert.throws(() => checkPodId('../etc'))
  assert.throws(() => checkPodId('a b'))
})
